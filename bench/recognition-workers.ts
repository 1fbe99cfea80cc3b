/**
 * The `recognition` bench's workers: `devicehub recognize` processes (CPU provider, one onnxruntime
 * thread each, as an operator runs them on this machine) against the run's Redis and object store,
 * each with its /metrics read once a second (images, batches) and its CPU time from /proc; one
 * `kill -9`ed on cue. A killed worker's last reading is kept.
 */
import { type DevicehubProcess, freePort, spawnDevicehub } from '../infra/mod.ts';
import { processCpuMicros } from './proc-cpu.ts';
import { promSamples } from './prom-samples.ts';

export interface WorkerReading {
  readonly images: number;
  readonly batches: number;
  /** CPU time since the worker reported ready (model loaded), ms. */
  readonly cpuMs: number;
}

export interface RecognitionWorkers extends AsyncDisposable {
  /** By worker id (`recognize-1` …). */
  readonly workers: ReadonlyMap<string, DevicehubProcess>;
  /** Reads every live worker (a dead one keeps its last reading); returns the sums. */
  read(): Promise<WorkerReading & { readonly byWorker: Readonly<Record<string, WorkerReading>> }>;
  /** `kill -9` of worker `id` (not restarted). */
  kill(id: string): Promise<void>;
  /** Model load CPU time of each worker, from start to ready (ms). */
  readonly loadCpuMs: Readonly<Record<string, number>>;
}

/** A metric's value in Prometheus text, summed over its labels. */
function metric(text: string, name: string): number {
  return promSamples(text, name).reduce((sum, s) => sum + (s.value || 0), 0);
}

export async function startRecognitionWorkers(o: {
  count: number;
  /** `--redis … --prefix …` of the cluster. */
  cliArgs: readonly string[];
  objectStoreUrl: string;
  maxBatch: number;
  /** A dead worker's jobs are taken again after this (ms). */
  lockMs: number;
}): Promise<RecognitionWorkers> {
  const workers = new Map<string, DevicehubProcess>();
  const ports = new Map<string, number>();
  for (let i = 1; i <= o.count; i++) {
    const id = `recognize-${i}`;
    const port = await freePort();
    ports.set(id, port);
    workers.set(
      id,
      spawnDevicehub(
        [
          'recognize',
          ...o.cliArgs,
          ...['--id', id, '--object-store', o.objectStoreUrl, '--providers', 'cpu', '--threads', '1'],
          ...['--max-batch', String(o.maxBatch), '--lock-ms', String(o.lockMs)],
          ...['--stalled-ms', String(Math.max(500, Math.round(o.lockMs / 2)))],
          ...['--metrics-port', String(port)],
        ],
        { name: `recognition worker ${id}`, env: { DH_LOG_LEVEL: 'warn' } },
      ),
    );
  }
  const all = [...workers.values()];
  try {
    await Promise.all(all.map((w) => w.ready));
  } catch (error) {
    await Promise.all(all.map((w) => w.kill('SIGKILL')));
    throw error;
  }
  const loadCpuMs: Record<string, number> = {};
  for (const [id, w] of workers) loadCpuMs[id] = processCpuMicros(w.child.pid) / 1000;
  const last = new Map<string, WorkerReading>();
  const dead = new Set<string>();
  return {
    workers,
    loadCpuMs,
    async read() {
      await Promise.all(
        [...workers].map(async ([id, w]) => {
          if (dead.has(id)) return;
          const cpu = processCpuMicros(w.child.pid) / 1000 - loadCpuMs[id]!;
          try {
            const text = await (await fetch(`http://127.0.0.1:${ports.get(id)}/metrics`)).text();
            last.set(id, {
              images: metric(text, 'devicehub_recognize_images_total'),
              batches: metric(text, 'devicehub_recognize_batches_total'),
              cpuMs: Math.max(cpu, last.get(id)?.cpuMs ?? 0),
            });
          } catch {
            // busy or gone: its last reading stands
          }
        }),
      );
      const byWorker = Object.fromEntries(last);
      const sum = (f: (r: WorkerReading) => number) => [...last.values()].reduce((a, r) => a + f(r), 0);
      return {
        images: sum((r) => r.images),
        batches: sum((r) => r.batches),
        cpuMs: sum((r) => r.cpuMs),
        byWorker,
      };
    },
    async kill(id) {
      dead.add(id);
      await workers.get(id)?.kill('SIGKILL');
    },
    async [Symbol.asyncDispose]() {
      await Promise.all(
        all.map((w) =>
          Promise.race([w.stop(), new Promise((r) => setTimeout(r, 10_000)).then(() => w.kill('SIGKILL'))]),
        ),
      );
    },
  };
}
