/**
 * `startRecognizers`: a BullMQ worker on one model's recognition queue (`recognitionQueue(model)`,
 * under the keyspace's BullMQ prefix) taking up to `maxBatch` jobs at once, whose frames a
 * micro-batcher gathers into one `detector.detect()` call (the largest batch, the longest wait).
 * As many processes as the fleet needs run one each, one detector each; BullMQ's lock makes one of
 * them run a job at a time, and its stalled check hands the jobs of a worker that died (its lock
 * not renewed for `lockMs`) to another. Close it (or abort `signal`) to stop: the runs in flight
 * finish first. docs/decisions/033-recognition-queue.md.
 */
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { createActorClient, type Logger, silentLogger } from '../../actors/mod.ts';
import { type Bus, recognitionQueue, toError } from '../../bus/mod.ts';
import { edgeActor } from '../../edge/mod.ts';
import type { VisionVerdictPayload } from '../../edge/protocol/mod.ts';
import type { ObjectStore } from '../../objects/mod.ts';
import type { DetectorPort } from './detector-port.ts';
import { MicroBatcher } from './micro-batcher.ts';
import { type Backoff, type FrameResult, processRecognizeJob } from './recognize.ts';
import { defaultKindPolicyOf, type KindPolicyOf, type RecognizeJobData } from './recognize-job.ts';
import { newRecognizerStats, type RecognizerStats } from './recognizer-stats.ts';

export interface RecognizerTimings {
  /** A job's lock; a worker that stops renewing it (killed) loses its jobs after this. */
  readonly lockMs: number;
  /** How often each worker looks for jobs whose lock expired (BullMQ's stalled check). */
  readonly stalledIntervalMs: number;
  /** Times a job may be found stalled (its worker died) before it fails. */
  readonly maxStalledCount: number;
  /** Between looks for a frame not uploaded yet (doubling, never past the job's deadline). */
  readonly frameRetry: Backoff;
  /** Between tries after a failure of the store, the model or Redis. */
  readonly errorRetry: Backoff;
}

/** A killed worker's jobs are taken again 10–15 s later; a missing frame is looked for every 100 ms → 1 s. */
export const DEFAULT_RECOGNIZER_TIMINGS: RecognizerTimings = {
  lockMs: 10_000,
  stalledIntervalMs: 5_000,
  maxStalledCount: 3,
  frameRetry: { firstMs: 100, maxMs: 1_000 },
  errorRetry: { firstMs: 200, maxMs: 2_000 },
};

export interface RecognizersOptions {
  readonly bus: Bus;
  readonly store: ObjectStore;
  readonly detector: DetectorPort;
  /** The queue's model (`recognitionQueue(model)`): the policy's `model`, e.g. 'yolov8n-coco'. */
  readonly model: string;
  /** Images in one detect() call, and jobs this process takes at once (default 4). */
  readonly maxBatch?: number;
  /** How long the first image of a batch waits for more (ms, default 20). */
  readonly maxWaitMs?: number;
  /** This worker's name (logs, metrics). */
  readonly holder: string;
  /** An alarm kind's policy when the job carries none (default: DEFAULT_RECOGNITION_POLICY's). */
  readonly kindPolicyOf?: KindPolicyOf;
  /** Detections below this score are not reported (default 0.25). */
  readonly minScore?: number;
  /** A frame larger than this is 'invalid' (default 8 MiB; uploads are capped at 2 MiB). */
  readonly maxFrameBytes?: number;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
  readonly timings?: Partial<RecognizerTimings>;
}

export interface Recognizers extends AsyncDisposable {
  readonly holder: string;
  readonly model: string;
  readonly provider: string;
  readonly maxBatch: number;
  readonly stats: RecognizerStats;
  /** Recognition jobs by BullMQ state, the whole queue (every worker's). */
  jobCounts(): Promise<Record<string, number>>;
  /** Stops taking jobs; resolves once the runs in flight have ended. */
  close(): Promise<void>;
}

export async function startRecognizers(o: RecognizersOptions): Promise<Recognizers> {
  const { bus, holder, detector, model, maxBatch = 4, maxWaitMs = 20, minScore = 0.25 } = o;
  const { maxFrameBytes = 8 * 1024 * 1024 } = o;
  if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > 256)
    throw new RangeError(`Cannot start recognizers: maxBatch must be 1..256, got ${maxBatch}`);
  if (!(maxWaitMs >= 0 && maxWaitMs <= 10_000))
    throw new RangeError(`Cannot start recognizers: maxWaitMs must be 0..10000, got ${maxWaitMs}`);
  if (!(minScore >= 0 && minScore <= 1))
    throw new RangeError(`Cannot start recognizers: minScore must be 0..1, got ${minScore}`);
  const queueName = recognitionQueue(model);
  const t = { ...DEFAULT_RECOGNIZER_TIMINGS, ...o.timings };
  const log = (o.logger ?? silentLogger).child({ component: 'recognize', worker: holder, model });
  const stats = newRecognizerStats();
  const edges = createActorClient(bus, edgeActor);
  const batcher = new MicroBatcher<Uint8Array, FrameResult>({
    maxBatch,
    maxWaitMs,
    run: (images) => detector.detect(images, { minScore }),
    onBatch: (b) => stats.recordBatch(b.size, b.ms),
  });
  // BullMQ blocks on its connections: they must never give up on a command.
  const connection = bus.duplicate().redis;
  connection.on('error', (err) => log.debug({ err }, 'recognition queue connection error'));
  const prefix = bus.keyspace.bullPrefix;
  const queue = new Queue<RecognizeJobData>(queueName, { connection, prefix });
  const deps = {
    store: o.store,
    batcher,
    model: { name: detector.name, version: detector.version },
    sendVerdict: (edgeId: string, verdict: VisionVerdictPayload) =>
      edges.send(edgeId, 'visionVerdict', verdict),
    kindPolicyOf: o.kindPolicyOf ?? defaultKindPolicyOf,
    log,
    stats,
    frameRetry: t.frameRetry,
    errorRetry: t.errorRetry,
    maxFrameBytes,
  };
  const worker = new Worker<RecognizeJobData, VisionVerdictPayload>(
    queueName,
    (job, token) => processRecognizeJob(job, token, deps),
    {
      connection,
      prefix,
      concurrency: maxBatch,
      autorun: false,
      lockDuration: t.lockMs,
      stalledInterval: t.stalledIntervalMs,
      maxStalledCount: t.maxStalledCount,
      name: holder,
    },
  );
  worker.on('failed', (job, error) => {
    if (job === undefined) return;
    const level = error instanceof UnrecoverableError ? 'warn' : 'error';
    log[level]({ jobId: job.id, err: toError(error) }, 'recognition job failed');
  });
  worker.on('error', (error) => log.warn({ err: toError(error) }, 'recognition worker error'));
  const running = worker.run().catch((error: unknown) => {
    log.error({ err: toError(error) }, 'recognition worker stopped');
  });
  log.info(
    { maxBatch, maxWaitMs, provider: detector.provider, version: detector.version, lockMs: t.lockMs },
    'recognition workers started',
  );

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const closed = worker.close();
      await batcher.drain();
      await closed;
      await running;
      await queue.close();
      connection.disconnect();
      log.info({ verdicts: stats.verdicts, images: stats.images }, 'recognition workers stopped');
    })();
    return closing;
  };
  o.signal?.addEventListener('abort', () => void close(), { once: true });
  return {
    holder,
    model,
    provider: detector.provider,
    maxBatch,
    stats,
    jobCounts: () => queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed'),
    close,
    [Symbol.asyncDispose]: close,
  };
}
