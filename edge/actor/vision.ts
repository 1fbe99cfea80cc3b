/**
 * Secondary image recognition, the edge actor's part (issue 17). An alarm start of a kind the
 * recognition policy names, whose data names its vision event (eventId + frames), hands a
 * `vision.requested` event to the outbox (the gateway's sink queues the job a recognition worker
 * takes); one without frames (a legacy edge) gets no second look and is counted. The verdict comes
 * back as `visionVerdict` and is kept with the newest in the state; the kind's policy decides:
 *
 * - `forward: 'always'` (trapped, person down): the alarm went out at once; the verdict only
 *   annotates it (`vision.verdict`);
 * - `forward: 'confirmed'` (e-bike): the alarm's start — and its end, if it comes first — is held
 *   until the verdict. Confirmed (a target at or above confirmScore): released with the verdict
 *   attached; dismissed: never forwarded (its end neither), only `vision.verdict`; timeout, shed or
 *   invalid: the kind's onTimeout (forward or drop).
 *
 * The actor does not wait for ever: the durable timer `vision` applies 'timeout' itself at the
 * request's deadline plus VISION_GRACE_MS (the workers answer 'timeout' for a job taken late, but
 * none may be running). A second verdict for the same event is ignored; a malformed one is a
 * TerminalError (dead-lettered).
 */
import { type ActorContext, type OutboxEvent, TerminalError } from '../../actors/mod.ts';
import {
  type AlarmPayload,
  type RecognitionPolicy,
  type VisionRequest,
  type VisionVerdictPayload,
  visionRefOf,
  visionVerdictProblem,
} from '../protocol/mod.ts';
import type { EdgeState, OpenAlarm, PendingVision, VisionRecord } from './state.ts';
import { decide, visionOf, withRecord } from './vision-decide.ts';

/** The timer that applies 'timeout' to requests whose verdict did not come. */
export const VISION_TIMER = 'vision';
/** How long past a request's deadline the actor still waits for a worker's verdict (ms). */
export const VISION_GRACE_MS = 2000;

/** Second looks one edge may ask for in a minute; past it, none (counted as `limited`). */
export const MAX_VISION_ASKS_PER_MINUTE = 12;
/** Requests without a verdict one edge may have; past it the oldest times out at once. */
export const MAX_VISION_PENDING = 20;

/** A policy with no kinds: no second looks (the edge actor's default when it is given no policy). */
export const NO_RECOGNITION: RecognitionPolicy = { model: 'none', kinds: {}, queueBound: 1 };

type AlarmHandler = (state: EdgeState, payload: AlarmPayload, ctx: ActorContext) => EdgeState;

/**
 * The `alarm` handler with second looks: the events the handler emits are caught, then sent on or
 * held — a start that opened an alarm of a recognised kind requests its verdict, an end that
 * closed a held (or dropped) alarm is held (or dropped) with it.
 */
export function withVision(handler: AlarmHandler, policy: () => RecognitionPolicy): AlarmHandler {
  return (state, payload, ctx) => {
    const caught: OutboxEvent[] = []; // the alarm's own events; others (edge.online) go out as they come
    const catcher = (e: OutboxEvent) =>
      e.type === 'alarm.start' || e.type === 'alarm.end' ? void caught.push(e) : ctx.emit(e);
    const inner: ActorContext = Object.create(ctx, { emit: { value: catcher } });
    const next = handler(state, payload, inner);
    const name = payload.alarm;
    const before = state.openAlarms[name];
    const after = next.openAlarms[name];
    if (before === undefined && after !== undefined) return onStart(next, name, after, policy(), caught, ctx);
    if (before !== undefined && after === undefined) return onEnd(next, name, before.since, caught, ctx);
    for (const event of caught) ctx.emit(event);
    return next;
  };
}

function onStart(
  state: EdgeState,
  name: string,
  open: OpenAlarm,
  policy: RecognitionPolicy,
  caught: readonly OutboxEvent[],
  ctx: ActorContext,
): EdgeState {
  const kind = policy.kinds[name];
  const ref = visionRefOf(open.data);
  const vision = visionOf(state);
  const recentAsks = (vision.asked ?? []).filter((at) => at > ctx.now - 60_000);
  if (kind !== undefined && ref !== undefined && recentAsks.length >= MAX_VISION_ASKS_PER_MINUTE) {
    // One edge raising vision alarms faster than this takes no more of the workers: no second look,
    // its held kinds follow onTimeout (forward by default), counted.
    const forward = kind.forward !== 'confirmed' || kind.onTimeout === 'forward';
    if (forward) for (const event of caught) ctx.emit(event);
    ctx.log.warn({ alarm: name, eventId: ref.eventId }, 'too many second looks asked by this edge: none');
    const dropped = forward ? vision.dropped : { ...vision.dropped, [name]: open.since };
    const limited = (vision.limited ?? 0) + 1;
    return { ...state, vision: { ...vision, asked: recentAsks, limited, ...(dropped ? { dropped } : {}) } };
  }
  if (kind === undefined || ref === undefined || vision.recent.some((r) => r.eventId === ref.eventId)) {
    for (const event of caught) ctx.emit(event);
    if (kind === undefined || ref !== undefined) return state;
    ctx.log.debug({ alarm: name }, 'alarm of a recognised kind without frames: no second look');
    return { ...state, vision: { ...vision, legacy: vision.legacy + 1 } };
  }
  const request: VisionRequest = {
    edgeId: ctx.id,
    eventId: ref.eventId,
    alarm: name,
    since: open.since,
    frames: ref.frames,
    class: kind.class,
    model: policy.model,
    deadlineAt: ctx.now + kind.deadlineMs,
    requestedAt: ctx.now,
  };
  const hold = kind.forward === 'confirmed';
  if (!hold) for (const event of caught) ctx.emit(event);
  ctx.emit({ type: 'vision.requested', ...request });
  ctx.log.info({ eventId: ref.eventId, alarm: name, hold }, 'second look requested');
  const pending: PendingVision = {
    alarm: name,
    since: open.since,
    due: request.deadlineAt + VISION_GRACE_MS,
    policy: {
      targets: kind.targets,
      confirmScore: kind.confirmScore,
      forward: kind.forward,
      onTimeout: kind.onTimeout,
    },
    ...(hold ? { held: caught } : {}),
  };
  const record: VisionRecord = {
    eventId: ref.eventId,
    alarm: name,
    since: open.since,
    class: kind.class,
    frames: ref.frames,
    requestedAt: ctx.now,
    status: 'requested',
    outcome: hold ? 'held' : 'forwarded',
    at: ctx.now,
  };
  let next = state;
  const waiting = Object.entries(vision.pending ?? {});
  if (waiting.length >= MAX_VISION_PENDING) {
    const [oldest] = waiting.sort(([, a], [, b]) => a.due - b.due)[0]!;
    next = decide(next, timeoutOf(next, oldest, 'too many second looks waiting on this edge'), ctx);
  }
  next = withRecord(next, record, { ...next.vision?.pending, [ref.eventId]: pending });
  next = { ...next, vision: { ...visionOf(next), asked: [...recentAsks, ctx.now] } };
  return armed(next, ctx);
}

function onEnd(
  state: EdgeState,
  name: string,
  since: number,
  caught: readonly OutboxEvent[],
  ctx: ActorContext,
): EdgeState {
  const vision = state.vision;
  if (vision?.dropped?.[name] !== undefined) {
    const { [name]: gone, ...dropped } = vision.dropped;
    const next: EdgeState = { ...state, vision: { ...vision, dropped } };
    if (gone === since) return next; // its start was dropped: so is its end
    for (const event of caught) ctx.emit(event);
    return next;
  }
  const entry = Object.entries(vision?.pending ?? {}).find(
    ([, p]) => p.alarm === name && p.since === since && p.held !== undefined,
  );
  if (vision === undefined || entry === undefined) {
    for (const event of caught) ctx.emit(event);
    return state;
  }
  const [eventId, pending] = entry;
  const held = { ...pending, held: [...(pending.held ?? []), ...caught] };
  return { ...state, vision: { ...vision, pending: { ...vision.pending, [eventId]: held } } };
}

/** The `visionVerdict` handler: a worker's (or the sink's 'shed') verdict on a second look. */
export function onVisionVerdict(
  state: EdgeState,
  payload: VisionVerdictPayload,
  ctx: ActorContext,
): EdgeState | undefined {
  const problem = visionVerdictProblem(payload);
  if (problem !== undefined) throw new TerminalError(`visionVerdict: ${problem}`);
  const pending = state.vision?.pending?.[payload.eventId];
  const known = pending ?? state.vision?.recent.find((r) => r.eventId === payload.eventId);
  if (known === undefined) {
    ctx.log.warn({ eventId: payload.eventId }, 'verdict for a second look not requested here (or long gone)');
    return undefined;
  }
  if (known.alarm !== payload.alarm || known.since !== payload.since)
    throw new TerminalError(
      `visionVerdict: event ${payload.eventId} is this edge's ${known.alarm} alarm at ${known.since}, not ${payload.alarm} at ${payload.since}`,
    );
  if (pending === undefined) return undefined; // said again (at least once): already decided
  return armed(decide(state, payload, ctx), ctx);
}

/** The `vision` timer: 'timeout' for every request past its deadline and grace. */
export function visionTimer(state: EdgeState, _data: unknown, ctx: ActorContext): EdgeState | undefined {
  const pending = state.vision?.pending;
  if (pending === undefined) return undefined;
  let next = state;
  for (const [eventId, p] of Object.entries(pending))
    if (p.due <= ctx.now) next = decide(next, timeoutOf(next, eventId, 'no verdict by the deadline'), ctx);
  return armed(next, ctx);
}

function timeoutOf(state: EdgeState, eventId: string, reason: string): VisionVerdictPayload {
  const p = state.vision!.pending![eventId]!;
  return { eventId, alarm: p.alarm, since: p.since, verdict: 'timeout', reason };
}

/** Arms the timer for the earliest pending request, or cancels it when none waits. */
function armed(state: EdgeState, ctx: ActorContext): EdgeState {
  let due = Number.POSITIVE_INFINITY;
  for (const p of Object.values(state.vision?.pending ?? {})) due = Math.min(due, p.due);
  if (due === Number.POSITIVE_INFINITY) ctx.cancelTimer(VISION_TIMER);
  else ctx.setTimer(VISION_TIMER, Math.max(due - ctx.now, 0));
  return state;
}
