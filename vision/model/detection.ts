/**
 * What the detector answers per image: its detections, or the reason the image could not be
 * looked at (a result, never a thrown error: the worker turns it into the verdict `invalid`).
 */
import type { Detection } from '../../edge/protocol/mod.ts';

/** One object found: a COCO label, its score (0..1) and its box [x, y, w, h] as fractions of the frame. */
export type { Detection };

export const IMAGE_PROBLEMS = ['not_an_image', 'truncated', 'too_small', 'too_large'] as const;
export type ImageProblemCode = (typeof IMAGE_PROBLEMS)[number];

export interface ImageProblem {
  readonly problem: ImageProblemCode;
  /** What was wrong, with the value that made it wrong (e.g. "1×1 pixels is under 32×32"). */
  readonly reason: string;
}

export function isImageProblem(result: readonly Detection[] | ImageProblem): result is ImageProblem {
  return !Array.isArray(result);
}
