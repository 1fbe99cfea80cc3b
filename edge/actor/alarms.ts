/**
 * The edge actor's `alarm` handler: a fault's start opens an alarm in the state (a repeated start
 * is ignored) and its end closes it; both go to the outbox (`alarm.start`, `alarm.end` with when
 * it began). An alarm marks the edge seen like any message, and a late one is still applied.
 */
import { type ActorContext, TerminalError } from '../../actors/mod.ts';
import type { AlarmPayload } from '../protocol/mod.ts';
import { seen } from './presence.ts';
import { duplicate, track } from './sequence.ts';
import { type EdgeState, isRecord } from './state.ts';

/** The `alarm` handler; `offlineAfterMs` is the edge actor's default silence window. */
export function alarmHandler(offlineAfterMs: number) {
  return (state: EdgeState, payload: AlarmPayload, ctx: ActorContext): EdgeState => {
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
    const next = seen(state, ctx, { defaultOfflineAfterMs: offlineAfterMs, seq, via: payload.via });
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
  };
}
