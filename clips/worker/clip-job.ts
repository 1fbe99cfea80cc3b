/**
 * A clip job's data: the ClipRequest the outbox sink queued (edge/protocol/clips.ts), plus the
 * progress the worker saves with `job.updateData` after each step, so that whoever runs the job
 * next — the same worker after a delayed poll, or another after a `kill -9` — resumes there:
 *
 *   camera → save (Ezviz task id) → wait (polls) → fetch (download, check, poster, store) → done
 *
 * The Ezviz task is named by the clip id (its `fileId`), so even a worker killed between Ezviz's
 * answer and `updateData` leaves nothing twice: saving again answers the same task.
 */
import type { ClipCamera, ClipRequest } from '../../edge/protocol/mod.ts';

export interface ClipProgress {
  /** The camera the clip is saved from, once resolved. */
  readonly camera?: ClipCamera;
  /** Ezviz's save task, once Ezviz took it. */
  readonly taskId?: string;
  /** Times the task was asked about. */
  readonly polls: number;
  /** Retryable failures since the last step that went forward (the backoff's exponent). */
  readonly retries: number;
  /** Retryable failures in all. */
  readonly retriesTotal: number;
  /** The last retryable failure, for the reason when the deadline passes. */
  readonly lastError?: { readonly code: string; readonly reason: string };
}

export type ClipJobData = ClipRequest & { readonly progress?: ClipProgress };

export const NO_PROGRESS: ClipProgress = { polls: 0, retries: 0, retriesTotal: 0 };

/** A request's data as a job's, checked enough that a malformed one fails with a reason. */
export function checkClipJob(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return 'the job carries no request';
  const r = data as Partial<ClipRequest>;
  if (typeof r.clipId !== 'string' || !/^[0-9a-z]{1,64}$/.test(r.clipId))
    return 'clipId is missing or malformed';
  if (typeof r.edgeId !== 'string' || r.edgeId === '') return 'edgeId is missing';
  if (typeof r.alarm !== 'string' || r.alarm === '') return 'alarm is missing';
  if (typeof r.since !== 'number') return 'since is missing';
  const w = r.window;
  if (typeof w?.start !== 'number' || typeof w.end !== 'number' || !(w.end > w.start))
    return 'window is missing or empty';
  if (typeof r.deadlineAt !== 'number') return 'deadlineAt is missing';
  if (typeof r.retentionDays !== 'number') return 'retentionDays is missing';
  return undefined;
}
