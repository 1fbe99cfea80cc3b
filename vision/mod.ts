/**
 * Secondary image recognition (issue 17), a top layer like clips/: the recognition workers
 * (`devicehub recognize`) that take a model's queue, read each vision event's frames from the
 * object store, run them micro-batched through the model and send the verdict to the edge actor.
 * The model (`openDetector`, vision/model/) and the workers (vision/worker/). It imports bus/,
 * actors/, edge/ and objects/; nothing below imports it.
 * docs/decisions/032-recognition-model.md, docs/decisions/033-recognition-queue.md.
 */
export {
  COCO_LABELS,
  type Detection,
  type DetectOptions,
  type Detector,
  DetectorError,
  type DetectorOptions,
  type DetectorStats,
  type ImageProblem,
  isImageProblem,
  openDetector,
  PROVIDERS,
  type Provider,
} from './model/mod.ts';
export {
  type Backoff,
  type BatchInfo,
  type Buckets,
  DEFAULT_RECOGNIZER_TIMINGS,
  type DetectorPort,
  defaultKindPolicyOf,
  type ImageProblemLike,
  type Judgement,
  judge,
  type KindPolicyOf,
  MicroBatcher,
  type MicroBatcherOptions,
  RECOGNIZE_JOB_NAME,
  type RecognizeJobData,
  type RecognizeMetricsInput,
  type RecognizeMetricsServer,
  type RecognizeProgress,
  type RecognizerStats,
  type Recognizers,
  type RecognizersOptions,
  type RecognizerTimings,
  renderRecognizeMetrics,
  serveRecognizeMetrics,
  startRecognizers,
} from './worker/mod.ts';
