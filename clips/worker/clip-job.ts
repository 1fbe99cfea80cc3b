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
import { type ClipCamera, type ClipRequest, clipRequestProblem } from '../../edge/protocol/mod.ts';

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

/** A job's data checked as the clip request it must be (the sink's own check): the reason, or undefined. */
export function checkClipJob(data: unknown): string | undefined {
  return clipRequestProblem(data);
}
