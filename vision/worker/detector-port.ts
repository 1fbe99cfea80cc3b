/**
 * What a recognition worker needs of a detector: vision/model's `Detector` (openDetector) fits it
 * as is. Written out here, not imported, so the worker can be tested with any detector and does
 * not change with every field the model adds.
 */
import type { Detection } from '../../edge/protocol/mod.ts';

/** An image the detector could not read: a result, never a crash (vision/model's ImageProblem). */
export interface ImageProblemLike {
  readonly problem: string;
  readonly reason: string;
}

export interface DetectorPort {
  /** The model's name (e.g. 'yolov8n-coco') and version, as verdicts report them. */
  readonly name: string;
  readonly version: string;
  /** The execution provider the session runs on ('cuda', 'cpu'). */
  readonly provider: string;
  /** One result per image, in order; one call is one batch on the runtime. */
  detect(
    images: Uint8Array[],
    options?: { readonly minScore?: number },
  ): Promise<readonly (readonly Detection[] | ImageProblemLike)[]>;
}
