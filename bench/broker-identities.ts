/**
 * What managing edges through mosquitto's dynamic-security plugin costs (docs/decisions/015):
 * creating N edges over `$CONTROL` in batches (each command rewrites dynsec's whole file, so this
 * grows with N²), and one registration, rotation and removal with N edges present (loaded from
 * the file at start, as a deployment's broker restarts). Prints one JSON line per measurement.
 *
 *   node --import tsx bench/broker-identities.ts [--create 1000,5000] [--present 1000,5000,20000,50000]
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { BrokerIdentities, DynsecClient, LINK_USER } from '../edge/broker/mod.ts';
import { startMosquitto } from '../infra/mod.ts';

const edge = (i: number) => ({ id: `M-${i}`, password: `secret-${i}` });

async function withBroker<T>(
  users: Record<string, string>,
  run: (identities: BrokerIdentities, dir: string) => Promise<T>,
): Promise<T> {
  const broker = await startMosquitto({ users: { [LINK_USER]: 'link', ...users } });
  const dynsec = new DynsecClient({ url: broker.url, ...broker.admin, timeoutMs: 600_000 });
  try {
    return await run(new BrokerIdentities(dynsec), broker.dir);
  } finally {
    await dynsec.close();
    await broker.stop();
  }
}

const fileBytes = (dir: string) => statSync(join(dir, 'dynamic-security.json')).size;

export type BrokerMeasurement =
  | { measure: 'create'; edges: number; ms: number; perEdgeMs: number; fileBytes: number }
  | {
      measure: 'one-with-present';
      present: number;
      startMs: number;
      registerMs: number;
      rotateMs: number;
      removeMs: number;
      listMs: number;
      fileBytes: number;
    };

/** Runs the measurements; each result goes to `emit` as it is known, and all are returned. */
export async function measureBrokerIdentities(
  o: { create: readonly number[]; present: readonly number[] },
  emit: (m: BrokerMeasurement) => void = () => {},
): Promise<BrokerMeasurement[]> {
  const results: BrokerMeasurement[] = [];
  const record = (m: BrokerMeasurement) => {
    results.push(m);
    emit(m);
  };
  for (const n of o.create) {
    await withBroker({}, async (identities, dir) => {
      const edges = Array.from({ length: n }, (_, i) => edge(i));
      const started = performance.now();
      await identities.ensureEdges(edges);
      const ms = performance.now() - started;
      record({
        measure: 'create',
        edges: n,
        ms: Math.round(ms),
        perEdgeMs: +(ms / n).toFixed(2),
        fileBytes: fileBytes(dir),
      });
    });
  }

  for (const n of o.present) {
    const users = Object.fromEntries(Array.from({ length: n }, (_, i) => [edge(i).id, edge(i).password]));
    const startedAt = performance.now();
    await withBroker(users, async (identities, dir) => {
      const startMs = performance.now() - startedAt;
      const time = async (run: () => Promise<void>) => {
        const t0 = performance.now();
        await run();
        return Math.round(performance.now() - t0);
      };
      const register = await time(() => identities.ensureEdge('NEW-1', 'new-secret'));
      const rotate = await time(() => identities.setPassword('NEW-1', 'newer-secret'));
      const remove = await time(() => identities.removeEdge('NEW-1'));
      const list = await time(async () => void (await identities.listEdges()));
      record({
        measure: 'one-with-present',
        present: n,
        startMs: Math.round(startMs),
        registerMs: register,
        rotateMs: rotate,
        removeMs: remove,
        listMs: list,
        fileBytes: fileBytes(dir),
      });
    });
  }

  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      create: { type: 'string', default: '1000,5000' },
      present: { type: 'string', default: '1000,5000' },
    },
  });
  const list = (s: string) => (s === '' ? [] : s.split(',').map(Number));
  await measureBrokerIdentities({ create: list(values.create), present: list(values.present) }, (m) =>
    process.stdout.write(`${JSON.stringify(m)}\n`),
  );
}
