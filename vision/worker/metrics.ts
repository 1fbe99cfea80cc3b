/**
 * A recognition worker's Prometheus text (`devicehub recognize --metrics-port`): the model's queue
 * by BullMQ state (the whole queue: every worker reports the same numbers, aggregate with max),
 * the model, version and execution provider this worker runs, and what it did — job runs, verdicts
 * by kind, images and batches (rate() of images_total is its throughput), frame waits, failed runs,
 * images per second over the last ten seconds — with histograms of batch sizes, queue wait and
 * inference time (fixed bounds, so the workers' buckets add up).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Logger, silentLogger } from '../../actors/mod.ts';
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
  const lines: string[] = [];
  const family = (name: string, type: 'gauge' | 'counter' | 'histogram', help: string) =>
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  const sample = (name: string, labels: Record<string, string>, value: number) => {
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    lines.push(`${name}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''} ${value}`);
  };
  const w = { worker: input.holder, model: input.model };
  const one = (name: string, type: 'gauge' | 'counter', help: string, value: number) => {
    family(name, type, help);
    sample(name, w, value);
  };
  const histogram = (name: string, help: string, b: Buckets) => {
    family(name, 'histogram', help);
    for (const [le, n] of b.cumulative()) sample(`${name}_bucket`, { ...w, le: String(le) }, n);
    sample(`${name}_bucket`, { ...w, le: '+Inf' }, b.count);
    sample(`${name}_sum`, w, b.sum);
    sample(`${name}_count`, w, b.count);
  };
  const s = input.stats;

  family(
    'devicehub_recognize_jobs',
    'gauge',
    'Recognition jobs of the model by BullMQ state (the whole queue)',
  );
  for (const [state, n] of Object.entries(input.jobCounts).sort())
    sample('devicehub_recognize_jobs', { model: input.model, state }, n);
  family(
    'devicehub_recognize_info',
    'gauge',
    'The model, its version and the execution provider this worker runs',
  );
  sample(
    'devicehub_recognize_info',
    { ...w, version: input.version, provider: input.provider, max_batch: String(input.maxBatch) },
    1,
  );
  one(
    'devicehub_recognize_runs_total',
    'counter',
    'Job runs this worker began (a delayed job counts at each run)',
    s.runs,
  );
  family('devicehub_recognize_verdicts_total', 'counter', 'Verdicts this worker sent, by verdict');
  for (const [verdict, n] of Object.entries(s.verdicts).sort())
    sample('devicehub_recognize_verdicts_total', { ...w, verdict }, n);
  one('devicehub_recognize_images_total', 'counter', 'Images run through the model', s.images);
  one('devicehub_recognize_batches_total', 'counter', 'detect() calls (batches)', s.batches);
  one(
    'devicehub_recognize_images_per_second',
    'gauge',
    'Images per second over the last ten seconds',
    s.imagesPerSecond(),
  );
  one(
    'devicehub_recognize_frame_waits_total',
    'counter',
    'Runs that found a frame not uploaded yet and delayed the job',
    s.frameWaits,
  );
  one(
    'devicehub_recognize_errors_total',
    'counter',
    'Runs that failed (store, model, Redis) and were tried again',
    s.errors,
  );
  one(
    'devicehub_recognize_malformed_total',
    'counter',
    'Jobs whose data was not a vision request (failed without a verdict)',
    s.malformed,
  );
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
  return `${lines.join('\n')}\n`;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export interface RecognizeMetricsServer extends AsyncDisposable {
  /** `http://host:port/metrics`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `collect()` at GET /metrics (port 0: a free one) until closed; 404 elsewhere, 500 if it throws. */
export async function serveRecognizeMetrics(o: {
  readonly port?: number;
  readonly host?: string;
  readonly collect: () => Promise<string> | string;
  readonly logger?: Logger;
}): Promise<RecognizeMetricsServer> {
  const { port = 0, host = '127.0.0.1', logger = silentLogger } = o;
  const server = createServer((req, res) => {
    if ((req.url ?? '/').split('?')[0] !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    Promise.resolve()
      .then(o.collect)
      .then(
        (text) =>
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text),
        (err: unknown) => {
          logger.warn({ err }, 'recognition metrics collection failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
        },
      );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  const shown = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return { url: `http://${shown}:${bound.port}/metrics`, close, [Symbol.asyncDispose]: close };
}
