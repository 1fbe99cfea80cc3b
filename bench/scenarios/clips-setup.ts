/**
 * What one run of the `clips` bench works on, each its own process but the stand-in: Redis, a hub
 * node (the edge actors), a real PostgreSQL, a gateway (its outbox sink turns `clip.requested`
 * into a `clips` row and a BullMQ job; it also writes the clip policy to Redis for the nodes), a
 * filesystem object store (file://), and the Ezviz stand-in in this process with its latency per
 * call. Edges register their camera with a birth message; the clip policy is written through the
 * configuration API, and the run starts once a hub node has shown it uses it (a canary alarm's
 * clip row appears).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { createActorClient } from '../../actors/mod.ts';
import type { ClipKindPolicy } from '../../edge/mod.ts';
import { edgeActor } from '../../edge/mod.ts';
import { createApiKey, openDatabase } from '../../gateway/mod.ts';
import { startEzvizStandIn, startPostgres, waitFor } from '../../infra/mod.ts';
import { CLIP_KINDS } from '../clips-alarms.ts';
import { type BenchCluster, edgeId, startBenchCluster } from '../cluster.ts';

/** The bench's policy for each clip kind: short rolls, so a run's clips are ready within seconds. */
export const BENCH_KIND_POLICY: ClipKindPolicy = {
  preRollSeconds: 10,
  postRollSeconds: 5,
  maxSeconds: 60,
  retentionDays: 30,
  deadlineMinutes: 10,
};

/**
 * How long the stand-in's save task runs before its file is there: workers poll it (a real cloud
 * takes a minute or more; 3 s keeps a run short and still makes every clip poll).
 */
export const STAND_IN_TASK_MS = 3000;

/** The canary edge and alarm kind that show a hub node has the policy (not counted in a run). */
export const CANARY_EDGE = 'bench-canary';
const CANARY_KIND = 'bench_canary';

const edgeClient = (bus: BenchCluster['bus']) => createActorClient(bus, edgeActor);
type EdgeClient = ReturnType<typeof edgeClient>;

/** Edge i's Ezviz camera serial: 9 characters [A-Z0-9], as the stand-in knows cameras. */
export const cameraSerial = (i: number) => `BC${String(i).padStart(7, '0')}`;

export interface ClipsBenchEnv extends AsyncDisposable {
  readonly cluster: BenchCluster;
  readonly sql: postgres.Sql;
  readonly databaseUrl: string;
  readonly objectsDir: string;
  readonly objectStoreUrl: string;
  readonly standIn: Awaited<ReturnType<typeof startEzvizStandIn>>;
  readonly client: EdgeClient;
}

export async function startClipsEnv(o: {
  edges: number;
  latencyMs: number;
  /** Edges whose camera serial the stand-in does not know (saving answers 20002: their clips fail). */
  unknownCameras: readonly number[];
  log: (line: string) => void;
}): Promise<ClipsBenchEnv> {
  // Stopped in reverse order, also when a later step fails.
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  };
  try {
    const cluster = await startBenchCluster();
    stops.push(async () => {
      await cluster[Symbol.asyncDispose]();
    });
    await cluster.startNode('node-1');
    const pg = await startPostgres();
    stops.push(async () => pg.stop());
    const databaseUrl = await pg.createDatabase('devicehub');
    const operatorKey = await apiKey(databaseUrl);
    const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
    stops.push(async () => {
      await sql.end();
    });
    const objectsDir = mkdtempSync(join(tmpdir(), 'dh-bench-clips-objects-'));
    stops.push(async () => rmSync(objectsDir, { recursive: true, force: true }));
    const objectStoreUrl = pathToFileURL(objectsDir).href;
    const standIn = await startEzvizStandIn({
      latencyMs: o.latencyMs,
      taskMs: STAND_IN_TASK_MS,
      faults: { unknownSerials: o.unknownCameras.map(cameraSerial) },
    });
    stops.push(async () => standIn.close());
    const gateway = await cluster.startGateway([
      ...['--database-url', databaseUrl],
      ...['--object-store', objectStoreUrl],
    ]);
    const client = edgeClient(cluster.bus);
    o.log(`${o.edges} edges register their cameras…`);
    await registerCameras(client, o.edges);
    await writePolicy(gateway.url, operatorKey);
    o.log('waiting for a hub node to use the clip policy…');
    await waitForPolicy(client, sql);
    const env: ClipsBenchEnv = {
      cluster,
      sql,
      databaseUrl,
      objectsDir,
      objectStoreUrl,
      standIn,
      client,
      [Symbol.asyncDispose]: stopAll,
    };
    return env;
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function apiKey(databaseUrl: string): Promise<string> {
  const database = await openDatabase({ url: databaseUrl });
  try {
    return (await createApiKey(database.db, { name: 'bench-clips', scope: 'operator' })).key;
  } finally {
    await database.close();
  }
}

/** Every edge's birth names its camera (shadow.birth.camera), as a DeviceHub agent's does. */
async function registerCameras(client: EdgeClient, edges: number) {
  const birth = (id: string, serial: string) =>
    client.send(id, 'telemetry', { kind: 'birth', data: { camera: { serial, channel: 1 } } });
  await birth(CANARY_EDGE, 'BCCANARY0');
  for (let from = 0; from < edges; from += 500) {
    const sends = [];
    for (let i = from; i < Math.min(edges, from + 500); i++) sends.push(birth(edgeId(i), cameraSerial(i)));
    await Promise.all(sends);
  }
}

/** PUT /v1/config/devicehub/global {"clips": …}: the three kinds plus the canary's. */
async function writePolicy(gatewayUrl: string, key: string): Promise<void> {
  const kinds: Record<string, ClipKindPolicy> = Object.fromEntries(
    CLIP_KINDS.map((k) => [k, BENCH_KIND_POLICY]),
  );
  kinds[CANARY_KIND] = { ...BENCH_KIND_POLICY, preRollSeconds: 0, postRollSeconds: 0, maxSeconds: 5 };
  const answer = await fetch(`${gatewayUrl}/v1/config/devicehub/global`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ clips: { kinds } }),
  });
  if (!answer.ok) throw new Error(`PUT /v1/config/devicehub/global: ${answer.status} ${await answer.text()}`);
}

/**
 * A canary alarm every 2 s until its clip row appears: the node reads the policy every few
 * seconds, and the sink writes the row of a request the actor made under it.
 */
async function waitForPolicy(client: EdgeClient, sql: postgres.Sql): Promise<void> {
  let tries = 0;
  await waitFor(
    async () => {
      const [row] = await sql`select count(*)::int as n from clips where edge_id = ${CANARY_EDGE}`;
      if ((row?.n ?? 0) > 0) return true;
      if (tries++ % 8 === 0) {
        const ts = Date.now();
        await client.send(CANARY_EDGE, 'alarm', { alarm: CANARY_KIND, phase: 'start', ts: ts - 1000 });
        await client.send(CANARY_EDGE, 'alarm', { alarm: CANARY_KIND, phase: 'end', ts });
      }
      return false;
    },
    { timeoutMs: 60_000, intervalMs: 250, message: 'a clip row for the canary alarm (the policy in use)' },
  );
}
