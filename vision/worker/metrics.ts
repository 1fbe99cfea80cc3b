/**
 * A recognition worker's Prometheus text (`devicehub recognize --metrics-port`): the model's queue
 * by BullMQ state (the whole queue: every worker reports the same numbers, aggregate with max),
 * the model, version and execution provider this worker runs, and what it did — job runs, verdicts
 * by kind, images and batches (rate() of images_total is its throughput), frame waits, failed runs,
 * images per second over the last ten seconds — with histograms of batch sizes, queue wait and
 * inference time (fixed bounds, so the workers' buckets add up); and the process's CPU and RSS
 * (process_cpu_seconds_total, process_resident_memory_bytes).
 */
import { type MetricsServer, type MetricsServerOptions, PromText, serveMetrics } from '../../actors/mod.ts';
import type { Buckets, RecognizerStats } from './recognizer-stats.ts';

export interface RecognizeMetricsInput {
  readonly holder: string;
  readonly model: string;
  readonly version: string;
  readonly provider: string;
  readonly maxBatch: number;
  /** `getJobCounts()` of the model's queue. */
  readonly jobCounts: Readonly<Record<string, number>>;
  readonly stats: RecognizerStats;
}

export function renderRecognizeMetrics(input: RecognizeMetricsInput): string {
  const out = new PromText();
  const w = { worker: input.holder, model: input.model };
  const s = input.stats;

  out.family(
    'devicehub_recognize_jobs',
    'gauge',
    'Recognition jobs of the model by BullMQ state (the whole queue)',
  );
  for (const [state, n] of Object.entries(input.jobCounts).sort())
    out.sample('devicehub_recognize_jobs', { model: input.model, state }, n);
  out.gauge(
    'devicehub_recognize_info',
    'The model, its version and the execution provider this worker runs',
    { ...w, version: input.version, provider: input.provider, max_batch: String(input.maxBatch) },
    1,
  );
  out.counter(
    'devicehub_recognize_runs_total',
    'Job runs this worker began (a delayed job counts at each run)',
    w,
    s.runs,
  );
  out.family('devicehub_recognize_verdicts_total', 'counter', 'Verdicts this worker sent, by verdict');
  for (const [verdict, n] of Object.entries(s.verdicts).sort())
    out.sample('devicehub_recognize_verdicts_total', { ...w, verdict }, n);
  out.counter('devicehub_recognize_images_total', 'Images run through the model', w, s.images);
  out.counter('devicehub_recognize_batches_total', 'detect() calls (batches)', w, s.batches);
  out.gauge(
    'devicehub_recognize_images_per_second',
    'Images per second over the last ten seconds',
    w,
    s.imagesPerSecond(),
  );
  out.counter(
    'devicehub_recognize_frame_waits_total',
    'Runs that found a frame not uploaded yet and delayed the job',
    w,
    s.frameWaits,
  );
  out.counter(
    'devicehub_recognize_errors_total',
    'Runs that failed (store, model, Redis) and were tried again',
    w,
    s.errors,
  );
  out.counter(
    'devicehub_recognize_malformed_total',
    'Jobs whose data was not a vision request (failed without a verdict)',
    w,
    s.malformed,
  );
  const histogram = (name: string, help: string, b: Buckets) =>
    out.cumulativeHistogram(name, help, w, { cumulative: b.cumulative(), count: b.count, sum: b.sum });
  histogram('devicehub_recognize_batch_size', 'Images per detect() call', s.batchSizes);
  histogram(
    'devicehub_recognize_queue_wait_seconds',
    'Job added to taken by a worker (first run)',
    s.queueWaitSeconds,
  );
  histogram(
    'devicehub_recognize_inference_seconds',
    'One detect() call: decode, letterbox and the model',
    s.inferSeconds,
  );
  out.processUsage();
  return out.text();
}

export type RecognizeMetricsServer = MetricsServer;

/** Serves `collect()` at GET /metrics (port 0: a free one) until closed (actors/metrics-server.ts). */
export function serveRecognizeMetrics(
  o: Omit<MetricsServerOptions, 'what'>,
): Promise<RecognizeMetricsServer> {
  return serveMetrics({ ...o, what: 'recognition' });
}
