/**
 * The recognition model (issue 17): `openDetector` runs a YOLOv8 COCO-80 ONNX model with
 * onnxruntime-node on the first execution provider that loads (CUDA on a GPU server, else the
 * CPU), preprocessing frames with sharp; a bad frame is an ImageProblem, never a crash.
 * The model file comes from infra/models.ts (provisioned) or a `model` artifact.
 * docs/decisions/032-recognition-model.md.
 */
export { COCO_LABELS, type CocoLabel } from './coco.ts';
export {
  type Detection,
  IMAGE_PROBLEMS,
  type ImageProblem,
  type ImageProblemCode,
  isImageProblem,
} from './detection.ts';
export {
  type DetectOptions,
  type Detector,
  type DetectorOptions,
  type DetectorStats,
  openDetector,
} from './detector.ts';
export { DETECTOR_ERRORS, DetectorError, type DetectorErrorCode } from './errors.ts';
export { type ImageLimits, INPUT_SIZE } from './letterbox.ts';
export { PROVIDERS, type Provider, type SkippedProvider } from './session.ts';
