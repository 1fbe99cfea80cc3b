/**
 * The clip workers (`devicehub clips`): BullMQ jobs from alarm to stored clip — the camera, Ezviz's
 * save task, polling it by delayed jobs, the download, ffprobe's check, the poster, the object
 * store, the `clips` row, `clipResult` to the edge actor. docs/decisions/029-clips-pipeline.md.
 */
export { CLIP_ERROR_CODES, ClipError, type ClipErrorCode } from './clip-error.ts';
export type { ClipJobData, ClipProgress } from './clip-job.ts';
export type { ClipRow } from './clip-row.ts';
export type { ClipWorkerStats } from './clip-stats.ts';
export {
  type ClipWorkers,
  type ClipWorkersOptions,
  type ClipWorkerTimings,
  DEFAULT_CLIP_TIMINGS,
  startClipWorkers,
} from './clip-workers.ts';
export type { ClipMeta } from './store-clip.ts';
