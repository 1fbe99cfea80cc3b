/**
 * What a verdict does to the second look it answers (decision 035): the held alarm released with
 * the verdict or dropped (with its end), `vision.verdict` to the outbox, the record kept with the
 * newest MAX_VERDICTS. edge/actor/vision.ts asks for second looks and calls `decide`.
 */
import type { ActorContext, OutboxEvent } from '../../actors/mod.ts';
import type { VisionVerdictPayload } from '../protocol/mod.ts';
import {
  type EdgeState,
  type EdgeVision,
  MAX_KEPT_DETECTIONS,
  MAX_VERDICTS,
  type PendingVision,
  type VisionRecord,
} from './state.ts';

/** Applies a verdict to the request it answers: the held events, the record, the outbox. */
export function decide(state: EdgeState, verdict: VisionVerdictPayload, ctx: ActorContext): EdgeState {
  const vision = visionOf(state);
  const { [verdict.eventId]: pending, ...rest } = vision.pending ?? {};
  const record = vision.recent.find((r) => r.eventId === verdict.eventId);
  let outcome: VisionRecord['outcome'] = 'forwarded';
  let dropped = vision.dropped;
  if (pending?.held !== undefined) {
    outcome = forwards(verdict, pending.policy) ? 'released' : 'dropped';
    const detections = best(verdict.detections);
    const annotation = {
      eventId: verdict.eventId,
      verdict: verdict.verdict,
      ...(verdict.model === undefined ? {} : { model: verdict.model }),
      ...(detections === undefined ? {} : { detections }),
    };
    if (outcome === 'released')
      for (const event of pending.held) ctx.emit({ ...(event as OutboxEvent), vision: annotation });
    else if (state.openAlarms[verdict.alarm]?.since === verdict.since)
      dropped = { ...dropped, [verdict.alarm]: verdict.since };
  }
  // `visionEventId`, not `eventId`: the web backend's POSTs carry the outbox item's id as `eventId`.
  const { eventId: visionEventId, ...said } = verdict;
  ctx.emit({
    type: 'vision.verdict',
    edgeId: ctx.id,
    visionEventId,
    ...said,
    forwarded: outcome !== 'dropped',
  });
  ctx.log.info({ eventId: verdict.eventId, verdict: verdict.verdict, outcome }, 'second look decided');
  const { eventId, alarm, since, detections: _all, ...fields } = verdict;
  const kept = best(verdict.detections);
  const next: VisionRecord = {
    ...(record ?? { eventId, alarm, since, class: 'other', frames: 1, requestedAt: ctx.now }),
    ...fields,
    ...(kept === undefined ? {} : { detections: kept }),
    status: verdict.verdict,
    outcome,
    at: ctx.now,
  };
  const counts = { ...vision.counts, [verdict.verdict]: (vision.counts?.[verdict.verdict] ?? 0) + 1 };
  const withDropped: EdgeState = { ...state, vision: { ...vision, counts, ...(dropped ? { dropped } : {}) } };
  return withRecord(withDropped, next, rest);
}

/** Whether a held alarm goes out: confirmed with a target at or above the score, else onTimeout. */
function forwards(verdict: VisionVerdictPayload, policy: PendingVision['policy']): boolean {
  switch (verdict.verdict) {
    case 'confirmed':
      return (
        verdict.detections === undefined ||
        verdict.detections.some((d) => policy.targets.includes(d.label) && d.score >= policy.confirmScore)
      );
    case 'dismissed':
      return false;
    default:
      return policy.onTimeout === 'forward';
  }
}

/** The best detections by score, at most MAX_KEPT_DETECTIONS. */
function best(detections: VisionVerdictPayload['detections']) {
  if (detections === undefined) return undefined;
  return [...detections].sort((a, b) => b.score - a.score).slice(0, MAX_KEPT_DETECTIONS);
}

export function visionOf(state: EdgeState): EdgeVision {
  return state.vision ?? { recent: [], legacy: 0 };
}

/**
 * The state with `record` (in its place when known, else the newest) and `pending`; past
 * MAX_VERDICTS the oldest decided record goes (a request still waiting stays while one is decided).
 */
export function withRecord(
  state: EdgeState,
  record: VisionRecord,
  pending: Readonly<Record<string, PendingVision>>,
): EdgeState {
  const vision = visionOf(state);
  const known = vision.recent.some((r) => r.eventId === record.eventId);
  const recent = known
    ? vision.recent.map((r) => (r.eventId === record.eventId ? record : r))
    : [...vision.recent, record];
  while (recent.length > MAX_VERDICTS) {
    const decided = recent.findIndex((r) => r.status !== 'requested');
    recent.splice(decided === -1 ? 0 : decided, 1);
  }
  const { pending: _old, ...others } = vision;
  return {
    ...state,
    vision: { ...others, recent, ...(Object.keys(pending).length === 0 ? {} : { pending }) },
  };
}
