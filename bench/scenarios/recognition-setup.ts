/**
 * What one run of the `recognition` bench works on, each its own process: Redis, a hub node (the
 * edge actors), a gateway (the frames route, its outbox sink turning `vision.requested` into
 * BullMQ jobs on the model's queue, the recognition policy written to Redis for the nodes — the
 * default one: trapped 2 s, person down 3 s, e-bike 5 s) with N registered edges (their own
 * credentials upload the frames), and a filesystem object store (file://) the gateway writes the
 * frames to and the workers read them from. The run starts once a hub node has shown it uses the
 * recognition policy (a canary alarm start gets its vision request recorded).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Queue } from 'bullmq';
import { createActorClient } from '../../actors/mod.ts';
import { connectRedis, recognitionQueue } from '../../bus/mod.ts';
import { DEFAULT_RECOGNITION_POLICY, edgeActor } from '../../edge/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { type BenchCluster, startBenchCluster } from '../cluster.ts';
import { registeredFleet } from '../fleet.ts';

/** The canary edge that shows a hub node has the recognition policy (not counted in a run). */
export const CANARY_EDGE = 'bench-vision-canary';

const edgeClient = (bus: BenchCluster['bus']) => createActorClient(bus, edgeActor);

export interface RecognitionBenchEnv extends AsyncDisposable {
  readonly cluster: BenchCluster;
  readonly gatewayUrl: string;
  readonly objectStoreUrl: string;
  /** The model's queue, for its counts (the bench adds nothing to it). */
  readonly queue: Queue;
  readonly client: ReturnType<typeof edgeClient>;
  readonly ids: readonly string[];
}

export async function startRecognitionEnv(o: {
  edges: number;
  log: (line: string) => void;
}): Promise<RecognitionBenchEnv> {
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
    const objectsDir = mkdtempSync(join(tmpdir(), 'dh-bench-recognition-objects-'));
    stops.push(async () => rmSync(objectsDir, { recursive: true, force: true }));
    const objectStoreUrl = pathToFileURL(objectsDir).href;
    o.log(`registering ${o.edges} edges with the gateway…`);
    const fleet = registeredFleet(cluster, o.edges);
    const gateway = await cluster.startGateway(['--object-store', objectStoreUrl], fleet.prepare);
    const redis = connectRedis(cluster.server.url, { name: 'bench-recognition-queue' });
    const queue = new Queue(recognitionQueue(DEFAULT_RECOGNITION_POLICY.model), {
      connection: redis,
      prefix: cluster.bus.keyspace.bullPrefix,
    });
    stops.push(async () => {
      await queue.close();
      redis.disconnect();
    });
    const client = edgeClient(cluster.bus);
    o.log('waiting for a hub node to use the recognition policy…');
    await waitForPolicy(cluster, client);
    return {
      cluster,
      gatewayUrl: gateway.url,
      objectStoreUrl,
      queue,
      client,
      ids: fleet.ids,
      [Symbol.asyncDispose]: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * A canary trapped alarm every 2 s until the canary edge's state records its vision request: the
 * node reads the policy every few seconds (its job, with no frame, ends 'timeout' or 'invalid').
 */
async function waitForPolicy(cluster: BenchCluster, client: RecognitionBenchEnv['client']): Promise<void> {
  let tries = 0;
  await waitFor(
    async () => {
      const [state] = await cluster.edgeStates(1, () => CANARY_EDGE);
      if ((state?.vision?.recent.length ?? 0) > 0) return true;
      if (tries++ % 8 === 0) {
        const ts = Date.now();
        const eventId = `canary-${tries}`;
        await client.send(CANARY_EDGE, 'alarm', {
          alarm: 'trapped',
          phase: 'start',
          ts,
          data: { eventId, frames: 1 },
        });
        await client.send(CANARY_EDGE, 'alarm', { alarm: 'trapped', phase: 'end', ts: ts + 1 });
      }
      return false;
    },
    {
      timeoutMs: 60_000,
      intervalMs: 250,
      message: 'a vision request for the canary alarm (the policy in use)',
    },
  );
}
