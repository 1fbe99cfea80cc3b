/**
 * Alarm clips, the edge actor's part (issue 16): when an alarm of a kind the clip policy names
 * ends, the actor hands a `clip.requested` event to the outbox (the gateway's sink queues the job
 * a clip worker takes); an alarm still open after the kind's longest clip gets its clip then, by
 * the durable timer `clips`, and its end requests nothing more. The clip id is clipIdOf(edge,
 * alarm, start), so whatever happens twice downstream makes one clip. A worker's `clipResult`
 * is kept with the newest clips in the state and goes out as `clip.ready` or `clip.failed`.
 *
 * One timer for every watched alarm (timer names are fixed handler names): armed for the earliest
 * `due` among the open alarms not cut yet.
 */
import { type ActorContext, TerminalError } from '../../actors/mod.ts';
import {
  type AlarmPayload,
  type ClipCamera,
  type ClipPolicy,
  type ClipResultPayload,
  clipIdOf,
  clipResultProblem,
  isClipCamera,
  planClip,
} from '../protocol/mod.ts';
import {
  type ArmedClip,
  type ClipRecord,
  type EdgeClips,
  type EdgeState,
  MAX_CLIPS,
  type OpenAlarm,
} from './state.ts';

/** The timer that requests the clips of alarms lasting their kind's longest clip. */
export const CLIP_TIMER = 'clips';

/** A policy with no kinds: no clips (the edge actor's default when it is given no policy). */
export const NO_CLIPS: ClipPolicy = { kinds: {} };

type AlarmHandler = (state: EdgeState, payload: AlarmPayload, ctx: ActorContext) => EdgeState;

/**
 * The `alarm` handler with clips: it watches what the handler did to the open alarms — a start
 * that opened one arms its longest-clip mark, an end that closed one requests its clip.
 */
export function withClips(handler: AlarmHandler, policy: () => ClipPolicy): AlarmHandler {
  return (state, payload, ctx) => {
    const next = handler(state, payload, ctx);
    const name = payload.alarm;
    const before = state.openAlarms[name];
    const after = next.openAlarms[name];
    if (before === undefined && after !== undefined) return onStart(next, name, after, policy(), ctx);
    if (before !== undefined && after === undefined) {
      const end = typeof payload.ts === 'number' ? payload.ts : ctx.now;
      return onEnd(next, { name, since: before.since, end }, policy(), ctx);
    }
    return next;
  };
}

function onStart(state: EdgeState, name: string, open: OpenAlarm, policy: ClipPolicy, ctx: ActorContext) {
  const kind = policy.kinds[name];
  if (kind === undefined) return state;
  const maxMs = kind.maxSeconds * 1000;
  // Device clock and node clock may differ: the mark is never further than the longest clip away.
  const delay = Math.min(Math.max(open.since + maxMs - ctx.now, 0), maxMs);
  const armed = { ...state.clips?.armed, [name]: { since: open.since, due: ctx.now + delay } };
  return withArmed(state, armed, ctx);
}

function onEnd(
  state: EdgeState,
  alarm: { name: string; since: number; end: number },
  policy: ClipPolicy,
  ctx: ActorContext,
): EdgeState {
  const { [alarm.name]: mark, ...armed } = state.clips?.armed ?? {};
  let next = mark === undefined ? state : withArmed(state, armed, ctx);
  if (mark?.cut === true && mark.since === alarm.since) return next; // requested at its longest clip
  const kind = policy.kinds[alarm.name];
  if (kind !== undefined)
    next = request(next, planArgs(next, alarm.name, alarm.since, alarm.end, ctx), kind, ctx);
  return next;
}

/** The `clips` timer: requests the clip of every watched alarm past its mark, re-arms for the rest. */
export function clipsTimer(policy: () => ClipPolicy) {
  return (state: EdgeState, _data: unknown, ctx: ActorContext): EdgeState | undefined => {
    const armed = state.clips?.armed;
    if (armed === undefined) return undefined;
    const current = policy();
    let next = state;
    const marks: Record<string, ArmedClip> = {};
    for (const [name, mark] of Object.entries(armed)) {
      if (mark.cut === true || mark.due > ctx.now) {
        marks[name] = mark;
        continue;
      }
      const open = state.openAlarms[name];
      const kind = current.kinds[name];
      if (open === undefined || open.since !== mark.since || kind === undefined) continue; // no longer wanted
      next = request(next, planArgs(next, name, mark.since, null, ctx), kind, ctx);
      marks[name] = { ...mark, cut: true };
    }
    return withArmed(next, marks, ctx);
  };
}

/** The `clipResult` handler: a worker's stored or failed clip, into the state and the outbox. */
export function onClipResult(
  state: EdgeState,
  payload: ClipResultPayload,
  ctx: ActorContext,
): EdgeState | undefined {
  const problem = clipResultProblem(payload);
  if (problem !== undefined) throw new TerminalError(`clipResult: ${problem}`);
  const { clipId, alarm, since, status } = payload;
  if (clipId !== clipIdOf(ctx.id, alarm, since))
    throw new TerminalError(`clipResult: clip ${clipId} is not this edge's ${alarm} alarm at ${since}`);
  const recent = state.clips?.recent ?? [];
  const known = recent.find((r) => r.id === clipId);
  if (known?.status === status) return undefined; // said again (at least once): already recorded and out
  if (status === 'stored') {
    ctx.emit({
      type: 'clip.ready',
      edgeId: ctx.id,
      clipId,
      alarm,
      since,
      bytes: payload.bytes,
      sha256: payload.sha256,
      durationMs: payload.durationMs,
    });
  } else {
    ctx.emit({
      type: 'clip.failed',
      edgeId: ctx.id,
      clipId,
      alarm,
      since,
      code: payload.code ?? 'FAILED',
      reason: payload.reason,
    });
  }
  const record: ClipRecord = {
    id: clipId,
    alarm,
    since,
    status,
    ...(payload.reason === undefined ? {} : { reason: payload.reason }),
    at: ctx.now,
  };
  return withRecord(state, record);
}

/** The camera an edge's birth named (`camera: { serial, channel }`), when it is a valid one. */
function birthCamera(state: EdgeState): ClipCamera | undefined {
  const camera = state.shadow.birth?.camera;
  return isClipCamera(camera) ? camera : undefined;
}

function planArgs(state: EdgeState, alarm: string, since: number, end: number | null, ctx: ActorContext) {
  return { edgeId: ctx.id, alarm, since, end, camera: birthCamera(state), now: ctx.now };
}

function request(
  state: EdgeState,
  alarm: Parameters<typeof planClip>[1],
  kind: ClipPolicy['kinds'][string],
  ctx: ActorContext,
): EdgeState {
  const clip = planClip(kind, alarm);
  if (state.clips?.recent.some((r) => r.id === clip.clipId)) return state; // the same alarm again
  ctx.emit({ type: 'clip.requested', ...clip });
  ctx.log.info({ clipId: clip.clipId, alarm: clip.alarm, cut: clip.end === null }, 'clip requested');
  return withRecord(state, {
    id: clip.clipId,
    alarm: clip.alarm,
    since: clip.since,
    status: 'requested',
    at: ctx.now,
  });
}

/** The state with `record` as the newest clip (replacing an older record of the same clip). */
function withRecord(state: EdgeState, record: ClipRecord): EdgeState {
  const recent = [...(state.clips?.recent ?? []).filter((r) => r.id !== record.id), record].slice(-MAX_CLIPS);
  return { ...state, clips: { ...state.clips, recent } };
}

/** The state with these watched alarms, the timer armed for the earliest not cut yet (or cancelled). */
function withArmed(state: EdgeState, armed: Record<string, ArmedClip>, ctx: ActorContext): EdgeState {
  let due = Number.POSITIVE_INFINITY;
  for (const mark of Object.values(armed)) if (mark.cut !== true) due = Math.min(due, mark.due);
  if (due === Number.POSITIVE_INFINITY) ctx.cancelTimer(CLIP_TIMER);
  else ctx.setTimer(CLIP_TIMER, Math.max(due - ctx.now, 0));
  const { armed: _old, ...rest }: EdgeClips = state.clips ?? { recent: [] };
  return {
    ...state,
    clips: Object.keys(armed).length === 0 ? rest : { ...rest, armed },
  };
}
