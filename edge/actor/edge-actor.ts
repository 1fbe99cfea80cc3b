/**
 * The edge actor (`edge/<edgeId>`): one per elevator edge box.
 *
 * - telemetry (status, vision, heartbeat, birth) updates the device shadow: the last values of
 *   each kind, when the edge was last seen, and its online flag;
 * - an edge that sends nothing for EDGE_OFFLINE_AFTER_MS (three missed 10 s heartbeats) goes
 *   offline, by a durable timer, even if the node that armed it has died since; a compact
 *   agent, quiet by design, says in its birth how long it may be silent (its snapshot period)
 *   and gets 2.5 times that;
 * - alarms (fault start/end) are recorded as open alarms and handed to the outbox, as are
 *   online/offline changes;
 * - per-edge sequence numbers, when the edge sends them, count lost and repeated messages
 *   (duplicates are ignored: a QoS 1 redelivery from the device is applied once). Messages of
 *   one edge may arrive slightly out of order (several MQTT link processes split a shared
 *   subscription message by message): the last 32 numbers below the newest are remembered, so a
 *   late message is taken once — counted, its alarm applied, its telemetry not laid over newer.
 */
import { type ActorContext, defineActor, TerminalError } from '../../actors/mod.ts';
import type {
  AlarmPayload,
  CommandPayload,
  CommandResultPayload,
  EdgeTransport,
  TelemetryPayload,
  TunnelClosePayload,
  TunnelOpenPayload,
} from '../protocol/mod.ts';
import { type CommandRecord, type EdgeState, MAX_COMMANDS } from './state.ts';
import {
  closeTunnel,
  expireTunnels,
  type IssueCommand,
  invalidOpen,
  openResult,
  openTunnel,
} from './tunnels.ts';

export const EDGE_OFFLINE_AFTER_MS = 30_000;

const KINDS = new Set<string>(['status', 'vision', 'heartbeat', 'birth']);

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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** How far below the newest sequence number a late message is still recognized. */
export const REORDER_WINDOW = 32;

/**
 * Sequence tracking: the new counters, and whether the message is late (older than one already
 * taken); undefined for a duplicate (or one too late to tell, counted as one).
 */
function track(
  state: EdgeState,
  seq: unknown,
  boot: unknown,
): { seq: EdgeState['seq']; late: boolean } | undefined {
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0) return { seq: state.seq, late: false };
  const bootId = typeof boot === 'string' ? boot : state.seq.boot;
  const s = bootId === state.seq.boot ? state.seq : { ...state.seq, boot: bootId, last: 0, window: 0 };
  const window = s.window ?? 0;
  if (seq > s.last) {
    const shift = seq - s.last;
    const next = s.last === 0 || shift > REORDER_WINDOW ? 0 : ((window << shift) | (1 << (shift - 1))) >>> 0;
    const gaps = s.last > 0 && shift > 1 ? s.gaps + (shift - 1) : s.gaps;
    return {
      seq: {
        boot: s.boot,
        last: seq,
        window: next,
        received: s.received + 1,
        gaps,
        duplicates: s.duplicates,
      },
      late: false,
    };
  }
  const behind = s.last - seq;
  if (behind === 0 || behind > REORDER_WINDOW) return undefined;
  const bit = 1 << (behind - 1);
  if ((window & bit) !== 0) return undefined;
  return {
    seq: {
      boot: s.boot,
      last: s.last,
      window: (window | bit) >>> 0,
      received: s.received + 1,
      gaps: Math.max(0, s.gaps - 1),
      duplicates: s.duplicates,
    },
    late: true,
  };
}

/**
 * Marks the edge seen: online, last seen, the offline timer pushed forward when needed, and the
 * sequence tracking. One new state object per message (this runs for every message of the fleet).
 */
function seen(
  defaultOfflineAfterMs: number,
  state: EdgeState,
  seq: EdgeState['seq'],
  ctx: ActorContext,
  shadow = state.shadow,
  updatedAt = state.updatedAt,
  via: EdgeTransport | undefined = undefined,
): EdgeState {
  const offlineAfterMs = state.offlineAfterMs ?? defaultOfflineAfterMs;
  const due = ctx.now + offlineAfterMs;
  let offlineDue = state.offlineDue;
  // Re-arm only when the timer would fire more than half its window too early: one timer write
  // per ~15 s per edge instead of one per message (the timer re-checks lastSeen when it fires).
  if (due - offlineDue > offlineAfterMs * 0.5) {
    ctx.setTimer('offline', offlineAfterMs);
    offlineDue = due;
  }
  if (!state.online) ctx.emit({ type: 'edge.online', edgeId: ctx.id });
  const transport = via === 'mqtt' || via === 'kafka' ? via : state.transport;
  return {
    online: true,
    firstSeen: state.firstSeen ?? ctx.now,
    lastSeen: ctx.now,
    shadow,
    updatedAt,
    openAlarms: state.openAlarms,
    alarmsRaised: state.alarmsRaised,
    seq,
    offlineDue,
    ...(state.commands === undefined ? {} : { commands: state.commands }),
    ...(transport === undefined ? {} : { transport }),
    ...(state.offlineAfterMs === undefined ? {} : { offlineAfterMs: state.offlineAfterMs }),
    ...(state.tunnels === undefined ? {} : { tunnels: state.tunnels }),
  };
}

/**
 * The kind's shadow with `data` merged over it. `data` was parsed for this delivery and belongs
 * to us: fields it lacks are copied in from the previous shadow rather than building a third
 * object (a status carries ~25 fields, every second, from every edge).
 */
function merge(previous: Readonly<Record<string, unknown>> | undefined, data: Record<string, unknown>) {
  if (previous !== undefined) for (const key in previous) if (!(key in data)) data[key] = previous[key];
  return data;
}

function duplicate(state: EdgeState): EdgeState {
  return { ...state, seq: { ...state.seq, duplicates: state.seq.duplicates + 1 } };
}

/** Keeps the newest commands, dropping finished ones first. */
function trimCommands(commands: Record<string, CommandRecord>): Record<string, CommandRecord> {
  const ids = Object.keys(commands);
  if (ids.length <= MAX_COMMANDS) return commands;
  const finished = ids
    .filter((id) => commands[id]!.status !== 'sent')
    .sort((a, b) => commands[a]!.at - commands[b]!.at);
  const out = { ...commands };
  for (const id of finished.slice(0, ids.length - MAX_COMMANDS)) delete out[id];
  return out;
}

/** Re-arms the commands timer for the earliest pending deadline (or cancels it). */
function armCommandTimer(commands: Readonly<Record<string, CommandRecord>>, ctx: ActorContext): void {
  const pending = Object.values(commands).filter((c) => c.status === 'sent');
  if (pending.length === 0) ctx.cancelTimer('commands');
  else ctx.setTimer('commands', Math.max(0, Math.min(...pending.map((c) => c.deadline)) - ctx.now));
}

/**
 * Commands a handler sends the edge: each goes to the outbox (over the edge's transport, with the
 * lease's fencing epoch) and into the state's command records; `done` puts the records in the
 * state and re-arms the deadline timer.
 */
function outgoing(state: EdgeState, ctx: ActorContext) {
  let commands: Record<string, CommandRecord> | undefined;
  const issue: IssueCommand = ({ id, type, args, deadline }) => {
    commands ??= { ...(state.commands ?? {}) };
    if (commands[id] !== undefined) return; // a repeated id: already handled
    if (deadline <= ctx.now) {
      commands[id] = {
        type,
        status: 'failed',
        deadline,
        at: ctx.now,
        error: 'deadline passed before sending',
      };
      return;
    }
    commands[id] = { type, status: 'sent', deadline, at: ctx.now };
    ctx.emit({
      type: 'command',
      edgeId: ctx.id,
      id,
      command: type,
      args,
      deadline,
      epoch: ctx.epoch,
      transport: state.transport ?? 'mqtt',
    });
  };
  /** `rearm`: the records changed otherwise too (a result, a timeout): re-arm even if none went out. */
  const done = (next: EdgeState, rearm = false): EdgeState => {
    if (commands === undefined) {
      if (rearm) armCommandTimer(next.commands ?? {}, ctx);
      return next;
    }
    const trimmed = trimCommands(commands);
    armCommandTimer(trimmed, ctx);
    return { ...next, commands: trimmed };
  };
  return { issue, done };
}

export interface EdgeActorOptions {
  /** Silence after which an edge counts as offline (default EDGE_OFFLINE_AFTER_MS). */
  readonly offlineAfterMs?: number;
}

/** The edge actor's definition; `edgeActor` is it with the defaults. */
export function createEdgeActor(options: EdgeActorOptions = {}) {
  const { offlineAfterMs = EDGE_OFFLINE_AFTER_MS } = options;
  if (!(offlineAfterMs >= 1))
    throw new RangeError(`Cannot create edge actor: offlineAfterMs must be ≥ 1, got ${offlineAfterMs}`);
  return defineActor({
    type: 'edge',
    initialState,
    logFields: (id) => ({ edgeId: id }),
    handlers: {
      telemetry(state: EdgeState, payload: TelemetryPayload, ctx: ActorContext): EdgeState {
        if (!isRecord(payload) || !KINDS.has(payload.kind as string)) {
          throw new TerminalError(`telemetry: kind must be one of ${[...KINDS].join(', ')}`);
        }
        if (payload.data !== undefined && !isRecord(payload.data))
          throw new TerminalError('telemetry: data must be an object');
        const tracked = track(state, payload.seq, payload.boot);
        if (tracked === undefined) return duplicate(state);
        const { seq, late } = tracked;
        const silence = payload.silenceSeconds;
        if (payload.kind === 'birth' && typeof silence === 'number' && silence >= 1 && silence <= 86_400)
          state = { ...state, offlineAfterMs: Math.max(offlineAfterMs, silence * 2500) };
        // A late message is counted but not laid over the newer values already in the shadow.
        if (payload.data === undefined || late)
          return seen(offlineAfterMs, state, seq, ctx, state.shadow, state.updatedAt, payload.via);
        const kind = payload.kind;
        const shadow: Record<string, unknown> = {
          ...state.shadow,
          [kind]: merge(state.shadow[kind], payload.data as Record<string, unknown>),
        };
        if (isRecord(payload.birth))
          shadow.birth = merge(state.shadow.birth, payload.birth as Record<string, unknown>);
        const updatedAt = {
          ...state.updatedAt,
          [kind]: typeof payload.ts === 'number' ? payload.ts : ctx.now,
        };
        return seen(offlineAfterMs, state, seq, ctx, shadow as EdgeState['shadow'], updatedAt, payload.via);
      },

      alarm(state: EdgeState, payload: AlarmPayload, ctx: ActorContext): EdgeState {
        if (
          !isRecord(payload) ||
          typeof payload.alarm !== 'string' ||
          payload.alarm.length === 0 ||
          payload.alarm.length > 64
        ) {
          throw new TerminalError('alarm: alarm must be a non-empty string of at most 64 characters');
        }
        if (payload.phase !== 'start' && payload.phase !== 'end')
          throw new TerminalError('alarm: phase must be "start" or "end"');
        const tracked = track(state, payload.seq, payload.boot);
        if (tracked === undefined) return duplicate(state);
        const seq = tracked.seq;
        const next = seen(offlineAfterMs, state, seq, ctx, state.shadow, state.updatedAt, payload.via);
        const at = typeof payload.ts === 'number' ? payload.ts : ctx.now;
        const data = isRecord(payload.data) ? payload.data : {};
        const open = next.openAlarms[payload.alarm];
        if (payload.phase === 'start') {
          if (open !== undefined) return next; // repeated start: already open
          ctx.emit({ type: 'alarm.start', edgeId: ctx.id, alarm: payload.alarm, at, data });
          return {
            ...next,
            openAlarms: { ...next.openAlarms, [payload.alarm]: { since: at, data } },
            alarmsRaised: next.alarmsRaised + 1,
          };
        }
        const { [payload.alarm]: _closed, ...rest } = next.openAlarms;
        ctx.emit({
          type: 'alarm.end',
          edgeId: ctx.id,
          alarm: payload.alarm,
          at,
          since: open?.since ?? null,
          data,
        });
        return { ...next, openAlarms: rest };
      },

      command(state: EdgeState, payload: CommandPayload, ctx: ActorContext): EdgeState | undefined {
        if (
          !isRecord(payload) ||
          typeof payload.id !== 'string' ||
          !/^[A-Za-z0-9_.:-]{1,64}$/.test(payload.id)
        ) {
          throw new TerminalError('command: id must be 1..64 characters of [A-Za-z0-9_.:-]');
        }
        if (typeof payload.type !== 'string' || payload.type.length === 0 || payload.type.length > 64) {
          throw new TerminalError('command: type must be a non-empty string of at most 64 characters');
        }
        if (!Number.isFinite(payload.deadline))
          throw new TerminalError('command: deadline must be a time in ms');
        if (state.commands?.[payload.id] !== undefined) return undefined; // a repeated id: already handled
        const out = outgoing(state, ctx);
        out.issue({
          id: payload.id,
          type: payload.type,
          args: { ...(payload.args ?? {}) },
          deadline: payload.deadline,
        });
        return out.done(state);
      },

      tunnelOpen(state: EdgeState, payload: TunnelOpenPayload, ctx: ActorContext): EdgeState | undefined {
        const invalid = invalidOpen(payload);
        if (invalid !== undefined) throw new TerminalError(`tunnelOpen: ${invalid}`);
        const out = outgoing(state, ctx);
        const tunnels = openTunnel(state.tunnels ?? {}, payload, ctx, out.issue);
        return tunnels === undefined ? undefined : out.done({ ...state, tunnels });
      },

      tunnelClose(state: EdgeState, payload: TunnelClosePayload, ctx: ActorContext): EdgeState | undefined {
        const out = outgoing(state, ctx);
        const tunnels = closeTunnel(state.tunnels ?? {}, payload, ctx, out.issue);
        return tunnels === undefined ? undefined : out.done({ ...state, tunnels });
      },

      commandResult(
        state: EdgeState,
        payload: CommandResultPayload,
        ctx: ActorContext,
      ): EdgeState | undefined {
        if (!isRecord(payload) || typeof payload.id !== 'string')
          throw new TerminalError('commandResult: id must be a string');
        const command = state.commands?.[payload.id];
        if (command === undefined || command.status !== 'sent') return undefined; // unknown, late or repeated
        const record: CommandRecord = {
          ...command,
          status: payload.ok === true ? 'succeeded' : 'failed',
          at: ctx.now,
          ...(payload.ok === true
            ? { result: payload.result }
            : { error: String(payload.error ?? 'failed') }),
        };
        const commands = { ...state.commands, [payload.id]: record };
        ctx.emit({
          type: 'command.result',
          edgeId: ctx.id,
          id: payload.id,
          ok: payload.ok === true,
          result: record.result,
          error: record.error,
        });
        const next: EdgeState = { ...state, commands };
        const out = outgoing(next, ctx);
        const tunnels = openResult(
          next.tunnels ?? {},
          payload.id,
          record.status === 'succeeded'
            ? { ok: true, result: record.result }
            : { ok: false, error: record.error },
          ctx,
          out.issue,
        );
        return out.done(tunnels === undefined ? next : { ...next, tunnels }, true);
      },
    },
    timers: {
      commands(state: EdgeState, _data: unknown, ctx: ActorContext): EdgeState | undefined {
        const commands = { ...(state.commands ?? {}) };
        const timedOut: string[] = [];
        for (const [id, c] of Object.entries(commands)) {
          if (c.status === 'sent' && c.deadline <= ctx.now) {
            commands[id] = {
              ...c,
              status: 'failed',
              at: ctx.now,
              error: 'timeout: no result before the deadline',
            };
            ctx.emit({ type: 'command.result', edgeId: ctx.id, id, ok: false, error: 'timeout' });
            timedOut.push(id);
          }
        }
        if (timedOut.length === 0) {
          armCommandTimer(commands, ctx);
          return undefined;
        }
        // A tunnel whose edge never answered its open command has failed.
        let next: EdgeState = { ...state, commands };
        const out = outgoing(next, ctx);
        for (const id of timedOut) {
          const tunnels = openResult(
            next.tunnels ?? {},
            id,
            { ok: false, error: 'the edge did not answer in time' },
            ctx,
            out.issue,
          );
          if (tunnels !== undefined) next = { ...next, tunnels };
        }
        return out.done(next, true);
      },
      tunnels(state: EdgeState, _data: unknown, ctx: ActorContext): EdgeState | undefined {
        const out = outgoing(state, ctx);
        const tunnels = expireTunnels(state.tunnels ?? {}, ctx, out.issue);
        return tunnels === undefined ? undefined : out.done({ ...state, tunnels });
      },
      offline(state: EdgeState, _data: unknown, ctx: ActorContext): EdgeState | undefined {
        if (!state.online || state.lastSeen === null) return undefined;
        const silentFor = ctx.now - state.lastSeen;
        const window = state.offlineAfterMs ?? offlineAfterMs;
        if (silentFor < window) {
          // Seen since the timer was armed: wait for the rest of the window.
          ctx.setTimer('offline', window - silentFor);
          return { ...state, offlineDue: ctx.now + window - silentFor };
        }
        ctx.emit({ type: 'edge.offline', edgeId: ctx.id, lastSeen: state.lastSeen });
        return { ...state, online: false };
      },
    },
  });
}

export const edgeActor = createEdgeActor();
