/**
 * `startClipWorkers`: a BullMQ worker on the clip queue (`clipQueue()`, under the keyspace's
 * BullMQ prefix) running `concurrency` clip jobs at a time (process-clip.ts). As many processes as
 * the fleet needs run one each; BullMQ's lock makes one of them run a job at a time, and its
 * stalled-job check hands the job of a worker that died (its lock not renewed for `lockMs`) to
 * another, which resumes from the job's saved progress. Close it (or abort `signal`) to stop:
 * jobs in flight finish their run first.
 */
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { createActorClient, type Logger, silentLogger } from '../../actors/mod.ts';
import { type Bus, clipQueue, toError } from '../../bus/mod.ts';
import { edgeActor } from '../../edge/mod.ts';
import type { Db } from '../../gateway/db/database.ts';
import type { ObjectStore } from '../../objects/mod.ts';
import type { EzvizClient } from '../ezviz/mod.ts';
import type { ClipJobData } from './clip-job.ts';
import type { ClipOutcome } from './clip-results.ts';
import { type ClipWorkerStats, newClipWorkerStats } from './clip-stats.ts';
import { type Backoff, processClipJob } from './process-clip.ts';

export interface ClipWorkerTimings {
  /** A job's lock; a worker that stops renewing it (killed) loses the job after this. */
  readonly lockMs: number;
  /** How often each worker looks for jobs whose lock expired (BullMQ's stalled check). */
  readonly stalledIntervalMs: number;
  /** Times a job may be found stalled (its worker died) before it fails. */
  readonly maxStalledCount: number;
  /** Between polls of a running Ezviz task. */
  readonly poll: Backoff;
  /** Between tries after a retryable failure (an offline camera, a rate limit, a cut download). */
  readonly retry: Backoff;
  /** Download tries within one run. */
  readonly downloadAttempts: number;
}

/** A killed worker's job is taken again 15–25 s later; Ezviz is polled every 5 s growing to 60 s. */
export const DEFAULT_CLIP_TIMINGS: ClipWorkerTimings = {
  lockMs: 15_000,
  stalledIntervalMs: 10_000,
  maxStalledCount: 5,
  poll: { firstMs: 5_000, maxMs: 60_000 },
  retry: { firstMs: 5_000, maxMs: 120_000 },
  downloadAttempts: 3,
};

export interface ClipWorkersOptions {
  readonly bus: Bus;
  readonly db: Db;
  readonly store: ObjectStore;
  readonly ezviz: EzvizClient;
  /** Clip jobs in flight at once (default 4): most of a job's time is Ezviz's, not ours. */
  readonly concurrency?: number;
  /** This worker's name (rows' `worker`, logs). */
  readonly holder: string;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
  readonly timings?: Partial<ClipWorkerTimings>;
  /** Where downloads wait for their checks (default the system's temporary folder). */
  readonly tmpDir?: string;
}

export interface ClipWorkers extends AsyncDisposable {
  readonly holder: string;
  readonly stats: ClipWorkerStats;
  /** Clip jobs by BullMQ state, the whole queue (every worker's). */
  jobCounts(): Promise<Record<string, number>>;
  /** Stops taking jobs; resolves once the runs in flight have ended. */
  close(): Promise<void>;
}

export async function startClipWorkers(o: ClipWorkersOptions): Promise<ClipWorkers> {
  const { bus, holder, concurrency = 4 } = o;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256)
    throw new RangeError(`Cannot start clip workers: concurrency must be 1..256, got ${concurrency}`);
  const t = { ...DEFAULT_CLIP_TIMINGS, ...o.timings };
  const log = (o.logger ?? silentLogger).child({ component: 'clips', worker: holder });
  const tmpDir = o.tmpDir ?? join(tmpdir(), 'devicehub-clips');
  await mkdir(tmpDir, { recursive: true });
  const stats = newClipWorkerStats();
  const edges = createActorClient(bus, edgeActor);
  // BullMQ blocks on its connections: they must never give up on a command.
  const connection = bus.duplicate().redis;
  connection.on('error', (err) => log.debug({ err }, 'clip queue connection error'));
  const prefix = bus.keyspace.bullPrefix;
  const queue = new Queue<ClipJobData>(clipQueue(), { connection, prefix });
  const worker = new Worker<ClipJobData, ClipOutcome>(
    clipQueue(),
    (job, token) =>
      processClipJob(job, token, {
        db: o.db,
        store: o.store,
        ezviz: o.ezviz,
        sendResult: (edgeId, result) => edges.send(edgeId, 'clipResult', result),
        holder,
        log,
        stats,
        tmpDir,
        poll: t.poll,
        retry: t.retry,
        downloadAttempts: t.downloadAttempts,
      }),
    {
      connection,
      prefix,
      concurrency,
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
    log[level]({ clipId: job.id, err: toError(error) }, 'clip job failed');
  });
  worker.on('error', (error) => log.warn({ err: toError(error) }, 'clip worker error'));
  worker.on('stalled', (clipId) =>
    log.warn({ clipId }, 'a clip job whose worker stopped renewing its lock is taken again'),
  );
  const running = worker.run().catch((error: unknown) => {
    log.error({ err: toError(error) }, 'clip worker stopped');
  });
  log.info({ concurrency, lockMs: t.lockMs }, 'clip workers started');

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await worker.close();
      await running;
      await queue.close();
      connection.disconnect();
      log.info({ stored: stats.stored, failed: stats.failed }, 'clip workers stopped');
    })();
    return closing;
  };
  o.signal?.addEventListener('abort', () => void close(), { once: true });
  return {
    holder,
    stats,
    jobCounts: () => queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed'),
    close,
    [Symbol.asyncDispose]: close,
  };
}
