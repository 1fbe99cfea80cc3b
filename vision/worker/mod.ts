/**
 * The recognition workers (`devicehub recognize`): BullMQ jobs from a vision alarm to its verdict —
 * the frames from the object store, micro-batched through one model, judged by the alarm kind's
 * targets and threshold, `visionVerdict` to the edge actor; deadlines, frames not uploaded yet, a
 * killed worker's jobs. docs/decisions/033-recognition-queue.md.
 */
export type { DetectorPort, ImageProblemLike } from './detector-port.ts';
export { type Judgement, judge } from './judge.ts';
export {
  type RecognizeMetricsInput,
  type RecognizeMetricsServer,
  renderRecognizeMetrics,
  serveRecognizeMetrics,
} from './metrics.ts';
export { type BatchInfo, MicroBatcher, type MicroBatcherOptions } from './micro-batcher.ts';
export type { Backoff } from './recognize.ts';
export {
  defaultKindPolicyOf,
  type KindPolicyOf,
  RECOGNIZE_JOB_NAME,
  type RecognizeJobData,
  type RecognizeProgress,
} from './recognize-job.ts';
export type { Buckets, RecognizerStats } from './recognizer-stats.ts';
export {
  DEFAULT_RECOGNIZER_TIMINGS,
  type Recognizers,
  type RecognizersOptions,
  type RecognizerTimings,
  startRecognizers,
} from './recognizers.ts';
