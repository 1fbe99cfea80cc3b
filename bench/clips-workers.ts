/**
 * The `clips` bench's workers: `devicehub clips` processes (as an operator runs them, each on its
 * own), started against the run's Redis, PostgreSQL, object store and Ezviz stand-in, and one of
 * them `kill -9`ed on cue.
 */
import { type DevicehubProcess, spawnDevicehub } from '../infra/mod.ts';

export interface ClipWorkersOptions {
  readonly count: number;
  /** `--redis … --prefix …` of the cluster. */
  readonly cliArgs: readonly string[];
  readonly databaseUrl: string;
  readonly objectStoreUrl: string;
  readonly ezviz: { readonly url: string; readonly appKey: string; readonly appSecret: string };
  /** The cluster-wide Ezviz call budget (calls per second; every worker shares it). */
  readonly budgetPerSecond: number;
  /** Jobs each worker runs at once (its default when absent). */
  readonly concurrency?: number;
}

export interface ClipWorkers extends AsyncDisposable {
  /** By worker id (`clips-1` …); a killed one stays, its `child` exited. */
  readonly workers: ReadonlyMap<string, DevicehubProcess>;
  /** `kill -9` of worker `id` (not restarted). */
  kill(id: string): Promise<void>;
}

export async function startClipWorkers(o: ClipWorkersOptions): Promise<ClipWorkers> {
  const workers = new Map<string, DevicehubProcess>();
  for (let i = 1; i <= o.count; i++) {
    const id = `clips-${i}`;
    workers.set(
      id,
      spawnDevicehub(
        [
          'clips',
          ...o.cliArgs,
          ...['--id', id],
          ...['--database-url', o.databaseUrl],
          ...['--object-store', o.objectStoreUrl],
          ...['--ezviz', o.ezviz.url, '--ezviz-app-key', o.ezviz.appKey],
          ...['--budget', String(o.budgetPerSecond)],
          ...(o.concurrency === undefined ? [] : ['--concurrency', String(o.concurrency)]),
        ],
        {
          name: `clip worker ${id}`,
          env: { DH_LOG_LEVEL: 'warn', DH_EZVIZ_APP_SECRET: o.ezviz.appSecret },
        },
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
  return {
    workers,
    async kill(id) {
      await workers.get(id)?.kill('SIGKILL');
    },
    async [Symbol.asyncDispose]() {
      // Graceful first (a worker hands its jobs back), killed if it hangs.
      await Promise.all(
        all.map((w) =>
          Promise.race([w.stop(), new Promise((r) => setTimeout(r, 10_000)).then(() => w.kill('SIGKILL'))]),
        ),
      );
    },
  };
}
