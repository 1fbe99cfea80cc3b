/**
 * What the rollout sends its members' edge actors (mail, `ctx.send`): the assignment
 * (`updateAssign`, idempotent per rollout and attempt) and the enrolment (`updateEnroll`: send
 * this rollout your health events until then). Member records are replaced, never edited.
 */
import type { ActorContext } from '../../actors/mod.ts';
import { M, type MemberRecord } from './members.ts';
import type { CheckedSpec, UpdateAssignPayload, UpdateEnrollPayload } from './spec.ts';

/** How long a member keeps sending health events after it enrolled (30 days). */
export const ENROLMENT_MS = 30 * 24 * 3_600_000;

/**
 * Seconds since the rollout's creation (the records' `since`), rounded up: a timeout counted
 * from it comes up to a second late, never early.
 */
export const sinceOf = (createdAt: number, now: number) => Math.max(0, Math.ceil((now - createdAt) / 1000));

/** Sends the edge its assignment (attempt `attempt`); the new record. */
export function assign(
  ctx: ActorContext,
  o: {
    readonly spec: CheckedSpec;
    readonly edgeId: string;
    readonly record: MemberRecord;
    readonly attempt: number;
    readonly createdAt: number;
    readonly rollback?: boolean;
  },
): MemberRecord {
  const { spec, edgeId, record, attempt, rollback = false } = o;
  const [wave, , , , zone, delivery] = record;
  const target = spec.target;
  const payload: UpdateAssignPayload = {
    rollout: ctx.id,
    wave,
    attempt,
    ...(target.kind === 'packages'
      ? { targets: target.targets }
      : { configVersion: rollback ? (target.previousVersion ?? target.version) : target.version }),
    spreadMs: rollback ? 0 : spec.spreadMs,
    healthDeadlineMs: spec.healthDeadlineMs,
    delivery: delivery === 1 ? 'pull' : 'command',
    ...(rollback ? { rollback: true } : {}),
  };
  ctx.send(`edge/${edgeId}`, 'updateAssign', payload);
  return [
    wave,
    rollback ? M.rollbackSent : M.assigned,
    attempt,
    sinceOf(o.createdAt, ctx.now),
    zone,
    delivery,
  ];
}

/** Tells a member to send this rollout its health events (`until` 0: stop). */
export function enrol(ctx: ActorContext, edgeId: string, until: number): void {
  const payload: UpdateEnrollPayload = { rollout: ctx.id, until };
  ctx.send(`edge/${edgeId}`, 'updateEnroll', payload);
}
