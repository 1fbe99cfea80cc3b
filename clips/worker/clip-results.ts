/**
 * How a clip job ends and what the edge actor is told: a failure recorded in the row (its code and
 * the reason the operator reads) and sent as a failed `clipResult`; a row already final (a replay,
 * a second run) answered by sending its result again, nothing else. The edge actor takes a result
 * it already has as said before (edge/actor/clips.ts), so sending twice is harmless.
 */
import type { Logger } from '../../actors/mod.ts';
import type { ClipRequest, ClipResultPayload } from '../../edge/protocol/mod.ts';
import type { Db } from '../../gateway/db/database.ts';
import { type ClipRow, clipRowOf, markClipFailed } from './clip-row.ts';
import { type ClipWorkerStats, countCode } from './clip-stats.ts';

/** How a run ended (the job's return value when it completes). */
export interface ClipOutcome {
  readonly status: 'stored' | 'failed' | 'deleted';
  /** The row was final already: its result was sent again. */
  readonly resent?: boolean;
  /** A failure's code and reason. */
  readonly code?: string;
  readonly reason?: string;
}

export interface ResultDeps {
  readonly db: Db;
  /** Sends `clipResult` to `edge/<edgeId>`. */
  readonly sendResult: (edgeId: string, result: ClipResultPayload) => Promise<unknown>;
  readonly holder: string;
  readonly log: Logger;
  readonly stats: ClipWorkerStats;
}

/**
 * The clip failed: the row says why (at most 2,000 characters), the edge actor is told. A row
 * already stored (a second run of a stalled job got there first, or this run stored it and then
 * failed to tell the edge past the deadline) stays stored, and that is what the edge is told.
 */
export async function failClip(
  request: ClipRequest,
  failure: { readonly code: string; readonly reason: string },
  deps: ResultDeps,
): Promise<ClipOutcome> {
  const reason = failure.reason.slice(0, 2000);
  // Our own side may be what failed: whatever fails here leaves the job to BullMQ's failed set.
  const failed = await markClipFailed(deps.db, request.clipId, {
    code: failure.code,
    reason,
    worker: deps.holder,
  });
  if (failed) {
    countCode(deps.stats.failed, failure.code);
    deps.log.warn({ code: failure.code, reason }, 'clip failed');
  } else {
    const row = await clipRowOf(deps.db, request.clipId);
    if (row?.status === 'deleted') return { status: 'deleted' };
    if (row !== undefined) return await sendAgain(request, row, deps);
  }
  await deps.sendResult(request.edgeId, {
    ...clipIdentity(request),
    status: 'failed',
    code: failure.code,
    reason,
  });
  return { status: 'failed', code: failure.code, reason };
}

/** The row is final (a replay, a second run): its result again, nothing else. */
export async function sendAgain(request: ClipRequest, row: ClipRow, deps: ResultDeps): Promise<ClipOutcome> {
  deps.stats.resent++;
  if (row.status === 'stored') {
    await deps.sendResult(request.edgeId, {
      ...clipIdentity(request),
      status: 'stored',
      bytes: Number(row.bytes),
      sha256: row.sha256 ?? '',
      durationMs: row.durationMs ?? 0,
    });
    return { status: 'stored', resent: true };
  }
  const reason = row.reason ?? 'failed';
  await deps.sendResult(request.edgeId, {
    ...clipIdentity(request),
    status: 'failed',
    code: row.code ?? 'FAILED',
    reason,
  });
  return { status: 'failed', resent: true };
}

export function clipIdentity(request: ClipRequest): Pick<ClipResultPayload, 'clipId' | 'alarm' | 'since'> {
  return { clipId: request.clipId, alarm: request.alarm, since: request.since };
}
