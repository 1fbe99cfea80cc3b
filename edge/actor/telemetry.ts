/**
 * Where an edge's telemetry changes its device shadow: the `telemetry` handler of the edge actor.
 * Status, vision, heartbeat and birth messages merge their fields over the last values of their
 * kind (the shadow) and note the device time of the update; a birth may set how long the edge may
 * be silent before it counts as offline (presence.ts). A duplicate only counts; a late message
 * counts and marks the edge seen, but is not laid over newer values (sequence.ts).
 */
import { type ActorContext, TerminalError } from '../../actors/mod.ts';
import type { TelemetryPayload } from '../protocol/mod.ts';
import { seen } from './presence.ts';
import { duplicate, track } from './sequence.ts';
import { type EdgeState, isRecord } from './state.ts';

const KINDS = new Set<string>(['status', 'vision', 'heartbeat', 'birth']);

/**
 * The kind's shadow with `data` merged over it. `data` was parsed for this delivery and belongs
 * to us: fields it lacks are copied in from the previous shadow rather than building a third
 * object (a status carries ~25 fields, every second, from every edge).
 */
function merge(previous: Readonly<Record<string, unknown>> | undefined, data: Record<string, unknown>) {
  if (previous !== undefined) for (const key in previous) if (!(key in data)) data[key] = previous[key];
  return data;
}

/** The `telemetry` handler; `offlineAfterMs` is the edge actor's default silence window. */
export function telemetryHandler(offlineAfterMs: number) {
  return (state: EdgeState, payload: TelemetryPayload, ctx: ActorContext): EdgeState => {
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
      return seen(state, ctx, { defaultOfflineAfterMs: offlineAfterMs, seq, via: payload.via });
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
    return seen(state, ctx, {
      defaultOfflineAfterMs: offlineAfterMs,
      seq,
      shadow: shadow as EdgeState['shadow'],
      updatedAt,
      via: payload.via,
    });
  };
}
