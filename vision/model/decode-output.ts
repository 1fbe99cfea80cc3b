/**
 * YOLOv8's raw output for one image → detections: output0 is [N, 4 + classes, anchors] with rows
 * cx, cy, w, h (input pixels) and one score row per class (sigmoid already applied, no objectness).
 * Per-class non-maximum suppression, then boxes mapped from the letterboxed 640×640 input back to
 * the frame as fractions [x, y, w, h].
 */
import type { Detection } from './detection.ts';
import type { Letterbox } from './letterbox.ts';

export interface DecodeOptions {
  readonly labels: readonly string[];
  /** Keep scores ≥ this (0..1). */
  readonly minScore: number;
  /** Two boxes of one class overlapping more than this (IoU) are one object. */
  readonly iou: number;
  /** The most detections kept per image, highest scores first. */
  readonly maxDetections: number;
}

/** Candidates taken into NMS at most (its cost is quadratic), highest scores first. */
const MAX_CANDIDATES = 3000;

interface Candidate {
  readonly cls: number;
  readonly score: number;
  /** x1, y1, x2, y2 in input pixels. */
  readonly box: readonly [number, number, number, number];
}

function iou(a: Candidate['box'], b: Candidate['box']): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));
const round4 = (v: number) => Math.round(v * 10_000) / 10_000;

/**
 * Decodes image `index` of an output tensor `data` shaped [N, rows, anchors].
 */
export function decodeOutput(
  data: Float32Array,
  index: number,
  rows: number,
  anchors: number,
  geometry: Letterbox,
  options: DecodeOptions,
): Detection[] {
  const classes = rows - 4;
  const base = index * rows * anchors;
  let candidates: Candidate[] = [];
  for (let j = 0; j < anchors; j++) {
    let best = -1;
    let cls = -1;
    for (let c = 0; c < classes; c++) {
      const s = data[base + (4 + c) * anchors + j] as number;
      if (s > best) {
        best = s;
        cls = c;
      }
    }
    if (best < options.minScore) continue;
    const cx = data[base + j] as number;
    const cy = data[base + anchors + j] as number;
    const w = data[base + 2 * anchors + j] as number;
    const h = data[base + 3 * anchors + j] as number;
    candidates.push({ cls, score: best, box: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2] });
  }
  candidates.sort((a, b) => b.score - a.score);
  if (candidates.length > MAX_CANDIDATES) candidates = candidates.slice(0, MAX_CANDIDATES);
  const kept: Candidate[] = [];
  for (const c of candidates) {
    if (kept.length >= options.maxDetections) break;
    if (!kept.some((k) => k.cls === c.cls && iou(k.box, c.box) > options.iou)) kept.push(c);
  }
  const { padX, padY, innerWidth, innerHeight } = geometry;
  return kept.map((k) => {
    const x1 = clamp01((k.box[0] - padX) / innerWidth);
    const y1 = clamp01((k.box[1] - padY) / innerHeight);
    const x2 = clamp01((k.box[2] - padX) / innerWidth);
    const y2 = clamp01((k.box[3] - padY) / innerHeight);
    return {
      label: options.labels[k.cls] ?? `class ${k.cls}`,
      score: round4(k.score),
      box: [round4(x1), round4(y1), round4(x2 - x1), round4(y2 - y1)] as const,
    };
  });
}
