/**
 * `openDetector`: a YOLOv8 (COCO-80) ONNX model in onnxruntime-node on the first execution
 * provider that loads, and `detect(images)` that letterboxes N JPEG/PNG frames with sharp, runs
 * them as one [N,3,640,640] batch and answers per image its detections (per-class NMS, boxes as
 * fractions of the frame) or the ImageProblem that kept it out of the batch.
 */
import { existsSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { type Logger, silentLogger } from '../../actors/mod.ts';
import { COCO_LABELS } from './coco.ts';
import { decodeOutput } from './decode-output.ts';
import type { Detection, ImageProblem } from './detection.ts';
import { DetectorError } from './errors.ts';
import { type ImageLimits, INPUT_SIZE, type Letterbox, letterbox, SLOT } from './letterbox.ts';
import { openSession, PROVIDERS, type Provider, type SkippedProvider } from './session.ts';

export interface DetectorOptions {
  readonly modelPath: string;
  /** The model's name and version as verdicts report them, e.g. 'yolov8n-coco', '8.0.175+dynbatch'. */
  readonly name: string;
  readonly version: string;
  /** Execution providers tried one by one, the first that loads wins (default: cuda, then cpu). */
  readonly providers?: readonly Provider[];
  /** onnxruntime's intra-op threads (default 1: one worker process per core). */
  readonly threads?: number;
  /** The most images run as one tensor; more are split (default 16; 1 for a fixed-batch model). */
  readonly maxBatch?: number;
  /** Images outside these are ImageProblems (default: sides ≥ 32, ≤ 40,000,000 pixels). */
  readonly limits?: Partial<ImageLimits>;
  /** The class labels of the output rows (default COCO-80). */
  readonly labels?: readonly string[];
  readonly logger?: Logger;
}

export interface DetectOptions {
  /** Keep detections scoring at least this, 0..1 (default 0.25). */
  readonly minScore?: number;
}

/** Counters since the detector opened (for a worker's stats and /metrics). */
export interface DetectorStats {
  readonly images: number;
  readonly problems: number;
  /** onnxruntime runs, and the images they held. */
  readonly batches: number;
  readonly batchedImages: number;
  /** Milliseconds spent decoding/letterboxing (sharp) and in onnxruntime's run. */
  readonly preprocessMs: number;
  readonly inferMs: number;
}

export interface Detector extends AsyncDisposable {
  readonly name: string;
  readonly version: string;
  /** The execution provider that loaded the model. */
  readonly provider: Provider;
  /** Providers tried before it that failed, with why. */
  readonly skippedProviders: readonly SkippedProvider[];
  readonly maxBatch: number;
  /** Per image, in order: its detections, or why it could not be looked at. */
  detect(images: readonly Uint8Array[], options?: DetectOptions): Promise<(Detection[] | ImageProblem)[]>;
  stats(): DetectorStats;
  close(): Promise<void>;
}

const IOU = 0.45;
const MAX_DETECTIONS = 100;

function check(ok: boolean, message: string): void {
  if (!ok) throw new DetectorError('BAD_OPTIONS', message);
}

/** The options with their defaults, each checked (DetectorError BAD_OPTIONS / BAD_MODEL naming it). */
function checkedOptions(options: DetectorOptions) {
  const {
    modelPath,
    name,
    version,
    providers = PROVIDERS,
    threads = 1,
    labels = COCO_LABELS,
    logger = silentLogger,
  } = options;
  const limits: ImageLimits = {
    minSide: options.limits?.minSide ?? 32,
    maxPixels: options.limits?.maxPixels ?? 40_000_000,
  };
  check(name.length > 0 && version.length > 0, 'Cannot open the detector: name and version must be set');
  check(providers.length > 0, 'Cannot open the detector: providers must name at least one of cuda, cpu');
  check(
    providers.every((p) => (PROVIDERS as readonly string[]).includes(p)),
    `Cannot open the detector: providers must be cuda or cpu, got ${providers.join(',')}`,
  );
  check(
    Number.isInteger(threads) && threads >= 1 && threads <= 256,
    `Cannot open the detector: threads must be 1..256, got ${threads}`,
  );
  check(
    limits.minSide >= 1 && limits.maxPixels >= limits.minSide ** 2,
    `Cannot open the detector: limits must have minSide ≥ 1 and maxPixels ≥ minSide², got ${JSON.stringify(limits)}`,
  );
  if (!existsSync(modelPath))
    throw new DetectorError('BAD_MODEL', `Cannot open the detector: no model file at ${modelPath}`);
  return { modelPath, name, version, providers, threads, labels, logger, limits };
}

export async function openDetector(options: DetectorOptions): Promise<Detector> {
  const { modelPath, name, version, providers, threads, labels, logger, limits } = checkedOptions(options);

  // One decode at a time per process (workers are processes, one per core) and no libvips cache:
  // frames are never seen twice.
  sharp.concurrency(1);
  sharp.cache(false);
  const log = logger.child({ model: name, version });
  const opened = await openSession(modelPath, { providers, threads, logger: log });
  const { session } = opened;
  const input = session.inputNames[0];
  const output = session.outputNames[0];
  if (input === undefined || output === undefined) {
    await session.release();
    throw new DetectorError('BAD_MODEL', `Cannot use ${modelPath}: it has no input or no output`);
  }
  // A model exported with a fixed batch of 1 still works, one image per run.
  const meta = session.inputMetadata[0];
  const fixedBatch = meta?.isTensor === true && meta.shape[0] === 1;
  const maxBatch = fixedBatch ? 1 : (options.maxBatch ?? 16);
  check(
    Number.isInteger(maxBatch) && maxBatch >= 1,
    `Cannot open the detector: maxBatch must be ≥ 1, got ${maxBatch}`,
  );

  let closed = false;
  const stats: MutableStats = {
    images: 0,
    problems: 0,
    batches: 0,
    batchedImages: 0,
    preprocessMs: 0,
    inferMs: 0,
  };

  const model: LoadedModel = { session, input, output, name, version, labels, limits, stats };

  const detector: Detector = {
    name,
    version,
    provider: opened.provider,
    skippedProviders: opened.skipped,
    maxBatch,
    async detect(images, detectOptions = {}) {
      if (closed)
        throw new DetectorError('CLOSED', `Cannot detect: the detector ${name}@${version} is closed`);
      const minScore = detectOptions.minScore ?? 0.25;
      check(minScore >= 0 && minScore <= 1, `Cannot detect: minScore must be 0..1, got ${minScore}`);
      stats.images += images.length;
      const results: (Detection[] | ImageProblem)[] = [];
      for (let i = 0; i < images.length; i += maxBatch)
        results.push(...(await runBatch(model, images.slice(i, i + maxBatch), minScore)));
      return results;
    },
    stats: () => ({
      ...stats,
      preprocessMs: Math.round(stats.preprocessMs),
      inferMs: Math.round(stats.inferMs),
    }),
    async close() {
      if (closed) return;
      closed = true;
      await session.release();
    },
    [Symbol.asyncDispose]() {
      return detector.close();
    },
  };
  return detector;
}

type MutableStats = { -readonly [K in keyof DetectorStats]: DetectorStats[K] };

/** What one batch run needs of an opened detector. */
interface LoadedModel {
  readonly session: ort.InferenceSession;
  readonly input: string;
  readonly output: string;
  readonly name: string;
  readonly version: string;
  readonly labels: readonly string[];
  readonly limits: ImageLimits;
  readonly stats: MutableStats;
}

/** Letterboxes `images` into one tensor, runs it, and decodes each image's rows. */
async function runBatch(
  model: LoadedModel,
  images: readonly Uint8Array[],
  minScore: number,
): Promise<(Detection[] | ImageProblem)[]> {
  const { session, input, output, name, version, labels, limits, stats } = model;
  const tensor = new Float32Array(images.length * SLOT);
  const results: (Detection[] | ImageProblem)[] = [];
  const placed: { result: number; slot: number; geometry: Letterbox }[] = [];
  const started = performance.now();
  for (const bytes of images) {
    const geometry = await letterbox(bytes, tensor, placed.length * SLOT, limits);
    if ('problem' in geometry) {
      stats.problems++;
      results.push(geometry);
    } else {
      placed.push({ result: results.length, slot: placed.length, geometry });
      results.push([]);
    }
  }
  stats.preprocessMs += performance.now() - started;
  if (placed.length === 0) return results;
  const inferStarted = performance.now();
  const feeds = {
    [input]: new ort.Tensor('float32', tensor.subarray(0, placed.length * SLOT), [
      placed.length,
      3,
      INPUT_SIZE,
      INPUT_SIZE,
    ]),
  };
  const outputs = await session.run(feeds);
  stats.inferMs += performance.now() - inferStarted;
  stats.batches++;
  stats.batchedImages += placed.length;
  const out = outputs[output];
  const dims = out?.dims ?? [];
  const rows = dims[1] ?? 0;
  const anchors = dims[2] ?? 0;
  if (out?.type !== 'float32' || dims.length !== 3 || dims[0] !== placed.length || rows !== labels.length + 4)
    throw new DetectorError(
      'BAD_MODEL',
      `${name}@${version} answered ${output} shaped [${dims.join(',')}], expected [${placed.length},${labels.length + 4},anchors]`,
    );
  const data = out.data as Float32Array;
  for (const p of placed)
    results[p.result] = decodeOutput(data, p.slot, rows, anchors, p.geometry, {
      labels,
      minScore,
      iou: IOU,
      maxDetections: MAX_DETECTIONS,
    });
  return results;
}
