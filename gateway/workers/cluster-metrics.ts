/**
 * `/metrics` of a gateway run as several processes on one port: whichever worker a scrape reaches
 * answers for all of them. It asks the primary (IPC); the primary asks every worker for its
 * registry (prom-client's JSON form), merges them and hands the text back. Merged per family:
 * - what each process counts for itself (its HTTP requests, refused logins, uploads, its own CPU,
 *   memory and event loop) is summed — or taken as prom-client's defaults say (averaged lag, …);
 * - what every worker reads from Redis at scrape time (the cluster's nodes, backlogs, fleet,
 *   dead letters) is the same fact seen N times: one worker's reading is kept ('first'), never N×.
 * A family not listed as the process's own counts as a cluster fact: at worst one worker's share
 * shows, never a multiple. A worker that does not answer within COLLECT_MS is left out; a primary
 * that does not, and the worker answers with its own registry alone.
 */
import cluster, { type Worker } from 'node:cluster';
import {
  AggregatorRegistry,
  type MetricObjectWithValues,
  type MetricValue,
  type Registry,
} from 'prom-client';

/** What the gateway's app asks for its `/metrics` text when the process is a cluster worker. */
export interface ClusterMetrics {
  /** This worker's own registry: what the primary collects from it. */
  attach(registry: Registry): void;
  /** Every worker's metrics, merged. */
  text(): Promise<string>;
}

const COLLECT_MS = 3000;

/** Families each process counts for itself: summed over the workers (prom-client's own default names keep theirs). */
const PROCESS_FAMILIES = [
  'devicehub_http_',
  'devicehub_auth_',
  'devicehub_edge_certificates_',
  'devicehub_frame_uploads_total',
  'devicehub_artifact_uploads_total',
  'devicehub_recognition_requests_total',
  'devicehub_log_lines_total',
  'devicehub_log_buffer_bytes',
  'devicehub_log_queued_lines',
  'devicehub_alert_rules_applied',
  'devicehub_db_reads_total',
  'devicehub_config_long_polls',
];

type Family = MetricObjectWithValues<MetricValue<string>>;
type Aggregator = Family['aggregator'];
/** One worker's registry as prom-client's `getMetricsAsJSON` gives it (what the merge reads of it). */
export type WorkerFamilies = readonly Pick<Family, 'name' | 'help' | 'type' | 'aggregator' | 'values'>[];

/** How a family is merged over the workers (see the file's comment). */
export function aggregatorOf(name: string, own: Aggregator): Aggregator {
  if (name.startsWith('devicehub_gateway_')) return own;
  if (name === 'devicehub_log_store_up') return 'min';
  if (PROCESS_FAMILIES.some((p) => name.startsWith(p))) return 'sum';
  return 'first';
}

/** Merges the workers' registries (JSON form) into one exposition text. */
export async function mergeMetrics(workers: readonly WorkerFamilies[]): Promise<string> {
  const relabelled = workers.map((families) =>
    families.map((f) => ({ ...f, aggregator: aggregatorOf(f.name, f.aggregator) }) as Family),
  );
  return await AggregatorRegistry.aggregate(relabelled).metrics();
}

interface MetricsRequest {
  readonly dh: 'metrics';
  readonly id: number;
}

export function isMetricsRequest(message: unknown): message is MetricsRequest {
  return (message as { dh?: unknown } | null)?.dh === 'metrics';
}

/** The primary: asks each worker for its registry, merges what comes back within COLLECT_MS. */
export async function collectClusterMetrics(workers: readonly Worker[]): Promise<string> {
  const ask = (worker: Worker, id: number) =>
    new Promise<MetricObjectWithValues<MetricValue<string>>[] | undefined>((resolve) => {
      const done = (value: MetricObjectWithValues<MetricValue<string>>[] | undefined) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        resolve(value);
      };
      const onMessage = (m: {
        dh?: string;
        id?: number;
        metrics?: MetricObjectWithValues<MetricValue<string>>[];
      }) => {
        if (m?.dh === 'metrics-json' && m.id === id) done(m.metrics);
      };
      const timer = setTimeout(() => done(undefined), COLLECT_MS);
      worker.on('message', onMessage);
      try {
        worker.send({ dh: 'metrics-json', id });
      } catch {
        done(undefined);
      }
    });
  const id = ++collections;
  const answers = await Promise.all(workers.filter((w) => w.isConnected()).map((w) => ask(w, id)));
  return await mergeMetrics(answers.filter((a) => a !== undefined));
}
let collections = 0;

/**
 * In a cluster worker (`process.send` to the primary): the ClusterMetrics its app serves
 * `/metrics` with; undefined in a process of its own.
 */
export function workerMetrics(): ClusterMetrics | undefined {
  const send = process.send?.bind(process);
  if (send === undefined || !cluster.isWorker) return undefined;
  let registry: Registry | undefined;
  let next = 0;
  const waiting = new Map<number, (text: string) => void>();
  process.on('message', (m: { dh?: string; id?: number; text?: string }) => {
    if (m?.dh === 'metrics-json' && registry !== undefined) {
      void registry.getMetricsAsJSON().then((metrics) => send({ dh: 'metrics-json', id: m.id, metrics }));
    } else if (m?.dh === 'metrics-text' && typeof m.id === 'number') {
      waiting.get(m.id)?.(m.text ?? '');
    }
  });
  return {
    attach(own) {
      registry = own;
    },
    async text() {
      const id = ++next;
      const merged = await new Promise<string | undefined>((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          resolve(undefined);
        }, COLLECT_MS + 1000);
        waiting.set(id, (text) => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(text);
        });
        send({ dh: 'metrics', id });
      });
      return merged ?? (await registry?.metrics()) ?? '';
    },
  };
}
