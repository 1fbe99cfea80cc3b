/**
 * Alarm clips (issue 16), a top layer like the gateway: the clip workers (`devicehub clips`)
 * that take the clip queue's jobs and bring each alarm's video from the Ezviz cloud into the
 * object store exactly once, Ezviz's client with the cluster's rules, the media checks, the
 * retention sweeper and the workers' metrics. It imports bus/, actors/, edge/, objects/ and
 * gateway/db (the schema); nothing below imports it. docs/decisions/029-clips-pipeline.md.
 */
export {
  type EzvizClient,
  type EzvizClientOptions,
  EzvizError,
  type EzvizStats,
  openEzvizClient,
} from './ezviz/mod.ts';
export {
  type ClipMetricsInput,
  type ClipMetricsServer,
  renderClipMetrics,
  serveClipMetrics,
} from './metrics.ts';
export {
  type ClipRetention,
  type ClipRetentionStats,
  startClipRetention,
} from './retention/mod.ts';
export {
  CLIP_ERROR_CODES,
  ClipError,
  type ClipErrorCode,
  type ClipJobData,
  type ClipMeta,
  type ClipRow,
  type ClipWorkerStats,
  type ClipWorkers,
  type ClipWorkersOptions,
  type ClipWorkerTimings,
  DEFAULT_CLIP_TIMINGS,
  startClipWorkers,
} from './worker/mod.ts';
