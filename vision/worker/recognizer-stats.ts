/**
 * What a recognition worker process counts, for its /metrics (metrics.ts), its logs and the
 * benchmark: job runs, verdicts by kind, images and batches, frame waits, failed runs; histograms
 * with fixed bounds (exact Prometheus buckets, so that every worker's add up) of batch sizes,
 * queue wait (job added → taken) and inference time per batch; images per second over the last
 * ten seconds.
 */

/** A Prometheus histogram: counts per upper bound (`le`), cumulative when read. */
export class Buckets {
  readonly bounds: readonly number[];
  readonly #counts: number[];
  #sum = 0;
  #count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.#counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    const at = this.bounds.findIndex((le) => value <= le);
    if (at >= 0) this.#counts[at] = (this.#counts[at] ?? 0) + 1;
    this.#sum += value;
    this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  get sum(): number {
    return this.#sum;
  }

  get mean(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  /** [le, observations ≤ le] per bound, cumulative (the +Inf bucket is `count`). */
  cumulative(): [number, number][] {
    let total = 0;
    return this.bounds.map((le, i) => {
      total += this.#counts[i] ?? 0;
      return [le, total];
    });
  }
}

/** Batch sizes: 1, 2, 3, 4, then powers of two (GPU batches). */
const BATCH_SIZE_BOUNDS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128] as const;
/** Queue wait, seconds: a verdict is due within seconds. */
const QUEUE_WAIT_BOUNDS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60] as const;
/** Inference per batch, seconds (sharp's decode and the model's run). */
const INFER_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8] as const;

const RATE_WINDOW_MS = 10_000;

export interface RecognizerStats {
  /** Job runs this process began (a delayed job counts at each run). */
  runs: number;
  /** Verdicts this process sent, by verdict. */
  readonly verdicts: Record<string, number>;
  /** Images run through the model, and the batches they went in. */
  images: number;
  batches: number;
  /** Runs that found a frame not uploaded yet and delayed the job. */
  frameWaits: number;
  /** Runs that failed (the store, the model, Redis) and were tried again later. */
  errors: number;
  /** Jobs whose data was not a vision request (failed, no verdict: nothing to address it to). */
  malformed: number;
  readonly batchSizes: Buckets;
  /** Job added → taken (first run), seconds. */
  readonly queueWaitSeconds: Buckets;
  /** One detect() call, seconds. */
  readonly inferSeconds: Buckets;
  /** Images per second over the last ten seconds. */
  imagesPerSecond(now?: number): number;
  /** Records one batch (called by the batcher). */
  recordBatch(size: number, ms: number, now?: number): void;
}

export function newRecognizerStats(): RecognizerStats {
  const recent: [number, number][] = [];
  const prune = (now: number) => {
    while (recent.length > 0 && recent[0]![0] < now - RATE_WINDOW_MS) recent.shift();
  };
  const stats: RecognizerStats = {
    runs: 0,
    verdicts: {},
    images: 0,
    batches: 0,
    frameWaits: 0,
    errors: 0,
    malformed: 0,
    batchSizes: new Buckets(BATCH_SIZE_BOUNDS),
    queueWaitSeconds: new Buckets(QUEUE_WAIT_BOUNDS),
    inferSeconds: new Buckets(INFER_BOUNDS),
    imagesPerSecond(now = Date.now()) {
      prune(now);
      let images = 0;
      for (const [, n] of recent) images += n;
      return images / (RATE_WINDOW_MS / 1000);
    },
    recordBatch(size, ms, now = Date.now()) {
      stats.images += size;
      stats.batches++;
      stats.batchSizes.observe(size);
      stats.inferSeconds.observe(ms / 1000);
      recent.push([now, size]);
      prune(now);
    },
  };
  return stats;
}

/** Adds one to `counts[key]`. */
export function countKey(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}
