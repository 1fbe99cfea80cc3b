/**
 * The edge actor (`edge/<edgeId>`): one per elevator edge box. This file puts its definition
 * together; each part lives in its own file:
 *
 * - telemetry.ts: telemetry (status, vision, heartbeat, birth) updates the device shadow — the
 *   last values of each kind — and when the edge was last seen;
 * - presence.ts: online/offline; an edge silent for EDGE_OFFLINE_AFTER_MS goes offline by a
 *   durable timer, even if the node that armed it has died since;
 * - alarms.ts: fault start/end recorded as open alarms and handed to the outbox, as are
 *   online/offline changes;
 * - sequence.ts: per-edge sequence numbers count lost, repeated and late messages;
 * - commands.ts: commands to the edge, their results and deadlines;
 * - tunnels.ts: the tunnels' state machine (the handlers below only wire it to the commands);
 * - updates.ts: rollouts' assignments, update reports, installed versions, health events;
 * - clips.ts: alarm clips requested when an alarm of a clip kind ends (or lasts too long), results;
 * - vision.ts: second looks requested at a vision alarm's start, verdicts, alarms held for them;
 *   vision-decide.ts: what a verdict does to the held alarm and the records;
 * - tile.ts: what a wall screen shows of the elevator, to the outbox when it changes.
 */
import { type ActorContext, defineActor, TerminalError } from '../../actors/mod.ts';
import type {
  ClipPolicy,
  RecognitionPolicy,
  TunnelClosePayload,
  TunnelOpenPayload,
} from '../protocol/mod.ts';
import { alarmHandler } from './alarms.ts';
import { clipsTimer, NO_CLIPS, onClipResult, withClips } from './clips.ts';
import { commandsTimer, onCommand, onCommandResult, outgoing } from './commands.ts';
import { EDGE_OFFLINE_AFTER_MS, offlineTimer } from './presence.ts';
import type { EdgeState } from './state.ts';
import { telemetryHandler } from './telemetry.ts';
import { withTile } from './tile.ts';
import { closeTunnel, expireTunnels, invalidOpen, openTunnel } from './tunnels.ts';
import { onUpdateAssign, onUpdateEnroll, onUpdateState, withHealth } from './updates.ts';
import { NO_RECOGNITION, onVisionVerdict, visionTimer, withVision } from './vision.ts';

function initialState(): EdgeState {
  return {
    online: false,
    firstSeen: null,
    lastSeen: null,
    shadow: {},
    updatedAt: {},
    openAlarms: {},
    alarmsRaised: 0,
    seq: { boot: '', last: 0, window: 0, received: 0, gaps: 0, duplicates: 0 },
    offlineDue: 0,
  };
}

export interface EdgeActorOptions {
  /** Silence after which an edge counts as offline (default EDGE_OFFLINE_AFTER_MS). */
  readonly offlineAfterMs?: number;
  /**
   * The alarm-clip policy in force, asked at each alarm start and end (a hub node reads it from
   * Redis, where the gateway writes the configuration's). Default: no clips.
   */
  readonly clipPolicy?: () => ClipPolicy;
  /**
   * The recognition policy in force, asked at each alarm start (read from Redis like the clip
   * policy). Default: no second looks.
   */
  readonly recognitionPolicy?: () => RecognitionPolicy;
}

/** The edge actor's definition; `edgeActor` is it with the defaults. */
export function createEdgeActor(options: EdgeActorOptions = {}) {
  const {
    offlineAfterMs = EDGE_OFFLINE_AFTER_MS,
    clipPolicy = () => NO_CLIPS,
    recognitionPolicy = () => NO_RECOGNITION,
  } = options;
  if (!(offlineAfterMs >= 1))
    throw new RangeError(`Cannot create edge actor: offlineAfterMs must be ≥ 1, got ${offlineAfterMs}`);
  return defineActor({
    type: 'edge',
    initialState,
    logFields: (id) => ({ edgeId: id }),
    handlers: {
      telemetry: withHealth(withTile(telemetryHandler(offlineAfterMs))),
      alarm: withHealth(withClips(withVision(alarmHandler(offlineAfterMs), recognitionPolicy), clipPolicy)),
      clipResult: onClipResult,
      visionVerdict: onVisionVerdict,
      command: onCommand,
      commandResult: onCommandResult,
      updateAssign: onUpdateAssign,
      updateState: onUpdateState,
      updateEnroll: onUpdateEnroll,

      tunnelOpen(state: EdgeState, payload: TunnelOpenPayload, ctx: ActorContext): EdgeState | undefined {
        const invalid = invalidOpen(payload);
        if (invalid !== undefined) throw new TerminalError(`tunnelOpen: ${invalid}`);
        const out = outgoing(state, ctx);
        const tunnels = openTunnel(state.tunnels ?? {}, payload, { ctx, issue: out.issue });
        return tunnels === undefined ? undefined : out.done({ ...state, tunnels });
      },

      tunnelClose(state: EdgeState, payload: TunnelClosePayload, ctx: ActorContext): EdgeState | undefined {
        const out = outgoing(state, ctx);
        const tunnels = closeTunnel(state.tunnels ?? {}, payload, { ctx, issue: out.issue });
        return tunnels === undefined ? undefined : out.done({ ...state, tunnels });
      },
    },
    timers: {
      commands: commandsTimer,
      tunnels(state: EdgeState, _data: unknown, ctx: ActorContext): EdgeState | undefined {
        const out = outgoing(state, ctx);
        const tunnels = expireTunnels(state.tunnels ?? {}, { ctx, issue: out.issue });
        return tunnels === undefined ? undefined : out.done({ ...state, tunnels });
      },
      offline: withHealth(offlineTimer(offlineAfterMs)),
      clips: clipsTimer(clipPolicy),
      vision: visionTimer,
    },
  });
}

export const edgeActor = createEdgeActor();
