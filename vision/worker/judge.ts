/**
 * The verdict on one event's frames, by its kind's policy: `confirmed` when a target label reaches
 * `confirmScore` on any frame (the frame with the best target is the one reported), `dismissed`
 * when none does, `invalid` when no frame could be read as an image (the first frame's reason).
 * Pure: the worker's only decision, tested on its own.
 */
import {
  type Detection,
  MAX_VERDICT_DETECTIONS,
  type RecognitionKindPolicy,
  type VisionVerdict,
} from '../../edge/protocol/mod.ts';
import type { ImageProblemLike } from './detector-port.ts';

export interface Judgement {
  readonly verdict: Extract<VisionVerdict, 'confirmed' | 'dismissed' | 'invalid'>;
  readonly reason: string;
  /** The frame the verdict stands on (absent for invalid). */
  readonly frame?: number;
  /** That frame's detections, best first, at most MAX_VERDICT_DETECTIONS, boxes clamped to 0..1. */
  readonly detections?: readonly Detection[];
}

type FrameResult = readonly Detection[] | ImageProblemLike;

export function isImageProblem(r: FrameResult): r is ImageProblemLike {
  return !Array.isArray(r);
}

/**
 * `results[i]` is frame `indexes[i]`'s (the frames the job read, in order; default 0..n-1).
 */
export function judge(
  results: readonly FrameResult[],
  kind: Pick<RecognitionKindPolicy, 'targets' | 'confirmScore'>,
  indexes: readonly number[] = results.map((_, i) => i),
): Judgement {
  const targets = new Set(kind.targets);
  let best: { frame: number; at: number; score: number } | undefined;
  let firstProblem: { frame: number; problem: ImageProblemLike } | undefined;
  results.forEach((r, at) => {
    const frame = indexes[at] ?? at;
    if (isImageProblem(r)) {
      firstProblem ??= { frame, problem: r };
      return;
    }
    let score = -1;
    for (const d of r) if (targets.has(d.label) && d.score > score) score = d.score;
    if (best === undefined || score > best.score) best = { frame, at, score };
  });
  if (best === undefined) {
    const p = firstProblem;
    return {
      verdict: 'invalid',
      reason:
        p === undefined
          ? 'no frame to look at'
          : `frame ${p.frame}: ${p.problem.problem}: ${p.problem.reason}`,
    };
  }
  const detections = tidy(results[best.at] as readonly Detection[]);
  const wanted = kind.targets.join('/');
  if (best.score >= kind.confirmScore)
    return {
      verdict: 'confirmed',
      reason: `${wanted} ${best.score.toFixed(2)} ≥ ${kind.confirmScore} on frame ${best.frame}`,
      frame: best.frame,
      detections,
    };
  return {
    verdict: 'dismissed',
    reason:
      best.score < 0
        ? `no ${wanted} found`
        : `${wanted} at most ${best.score.toFixed(2)} < ${kind.confirmScore}`,
    frame: best.frame,
    detections,
  };
}

/** Best first, capped, numbers rounded (4 decimals) and boxes clamped into the frame. */
function tidy(detections: readonly Detection[]): Detection[] {
  const clamp = (v: number) => Math.min(1, Math.max(0, Math.round(v * 10_000) / 10_000));
  return [...detections]
    .sort((a, b) => b.score - a.score)
    .slice(0, MAX_VERDICT_DETECTIONS)
    .map((d) => ({
      label: d.label,
      score: clamp(d.score),
      box: [clamp(d.box[0]), clamp(d.box[1]), clamp(d.box[2]), clamp(d.box[3])] as const,
    }));
}
