/**
 * A benchmark cluster: redis-server, hub nodes and the load generator, each its own process,
 * plus the probes the scenarios measure with (node stats, edge states, leases).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NodeStats, readNodeStats } from '../actors/mod.ts';
import { type Bus, connectRedis, createKeyspace, execOrThrow, openBus, openPipeline } from '../bus/mod.ts';
import type { EdgeState } from '../edge/mod.ts';
import {
  type DevicehubProcess,
  freePort,
  type HubProcess,
  keyspaceArgs,
  nodeFlagsOf,
  type RedisServer,
  spawnDevicehub,
  spawnHubNode,
  startRedisServer,
  waitFor,
} from '../infra/mod.ts';
import { type LoadGenerator, spawnLoadGenerator, spawnTileFeeder } from './load-process.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface BenchCluster extends AsyncDisposable {
  readonly server: RedisServer;
  /** The cluster's keyspace on the benchmark's own connection (closed with the cluster). */
  readonly bus: Bus;
  readonly nodes: Map<string, HubProcess>;
  startNode(nodeId: string, options?: { traceResume?: boolean }): Promise<HubProcess>;
  startLoad(edges: number, seconds: number): LoadGenerator;
  /** The tile feeder (tile-feeder.ts): edges' tile changes straight into the outbox, 1 Hz each. */
  startTileFeed(edges: number, seconds: number): LoadGenerator;
  /** `--redis … --prefix … --shards …` for a `devicehub` process working in this cluster. */
  readonly cliArgs: readonly string[];
  /**
   * A gateway process (`devicehub gateway`, its own embedded PGlite in a temporary folder that
   * `prepare` may fill first) with `args` added and `env` in its environment (settings that are
   * never flags, such as secrets); stopped gracefully with the cluster (so a gateway run with
   * DH_GATEWAY_ARGS="--cpu-prof …" writes its profile).
   */
  startGateway(
    args: readonly string[],
    prepare?: (dataDir: string) => Promise<void>,
    env?: Readonly<Record<string, string>>,
  ): Promise<{ url: string }>;
  stats(): Promise<NodeStats[]>;
  /** Every edge's persisted state, by edge index (ids `idOf(i)`, default the load generator's). */
  edgeStates(edges: number, idOf?: (i: number) => string): Promise<(EdgeState | undefined)[]>;
}

export const edgeId = (i: number) => `E-${String(i).padStart(6, '0')}`;

export async function startBenchCluster(
  options: {
    shards?: number;
    traceResume?: boolean;
    logLevel?: string;
    /** Added to every hub node's environment. */
    nodeEnv?: Readonly<Record<string, string>>;
  } = {},
): Promise<BenchCluster> {
  const server = await startRedisServer({ fsync: 'everysec' });
  // BENCH_SHARDS: the cluster's shard count (default 1024, as `devicehub node`'s), for the
  // scenarios that take no option of their own for it.
  const shards = options.shards ?? Number(process.env.BENCH_SHARDS ?? 1024);
  const keyspace = createKeyspace({ prefix: 'bench', shards });
  const redis = connectRedis(server.url, { name: 'bench' });
  const nodes = new Map<string, HubProcess>();
  const loads: LoadGenerator[] = [];
  const gateways: { process: DevicehubProcess; dataDir: string }[] = [];
  const cliArgs = keyspaceArgs(server.url, keyspace);
  const cluster: BenchCluster = {
    server,
    bus: openBus({ redis, keyspace }),
    nodes,
    async startNode(nodeId, opts = {}) {
      const node = spawnHubNode({
        redisUrl: server.url,
        nodeId,
        prefix: keyspace.prefix,
        shards: keyspace.shards,
        logLevel: options.logLevel ?? 'warn',
        traceResume: opts.traceResume ?? options.traceResume,
        env: options.nodeEnv,
      });
      nodes.set(nodeId, node);
      await node.ready;
      // Until its first stats report is in Redis: a window opened before it would leave the
      // node out (windowBetween counts a node from its report at the window's start), and a
      // loaded machine once delayed that report past a 2 s window: 0 messages measured.
      await waitFor(async () => (await readNodeStats(cluster.bus)).some((s) => s.node === nodeId), {
        timeoutMs: 30_000,
        message: `${nodeId}'s first stats report`,
      });
      return node;
    },
    startLoad(edges, seconds) {
      const load = spawnLoadGenerator({ redisUrl: server.url, keyspace, edges, seconds });
      loads.push(load);
      return load;
    },
    startTileFeed(edges, seconds) {
      const feed = spawnTileFeeder({ redisUrl: server.url, keyspace, edges, seconds });
      loads.push(feed);
      return feed;
    },
    cliArgs,
    async startGateway(args, prepare, env = {}) {
      const dataDir = mkdtempSync(join(tmpdir(), 'dh-bench-gateway-'));
      await prepare?.(dataDir);
      const port = await freePort();
      const gateway = spawnDevicehub(
        ['gateway', ...cliArgs, '--port', String(port), '--data-dir', dataDir, ...args],
        {
          name: 'gateway',
          env: { DH_LOG_LEVEL: 'warn', ...env },
          nodeArgs: nodeFlagsOf('DH_GATEWAY_ARGS'),
        },
      );
      gateways.push({ process: gateway, dataDir });
      await gateway.ready;
      return { url: `http://127.0.0.1:${port}` };
    },
    stats: () => readNodeStats(cluster.bus, { departed: true }),
    async edgeStates(edges, idOf = edgeId) {
      const pipeline = openPipeline(redis);
      for (let s = 0; s < keyspace.shards; s++) pipeline.hgetall(keyspace.shard(s).state);
      const byAddress = new Map<string, EdgeState>();
      for (const hash of await execOrThrow(pipeline)) {
        for (const [address, json] of Object.entries(hash as Record<string, string>)) {
          byAddress.set(address, (JSON.parse(json) as { s: EdgeState }).s);
        }
      }
      return Array.from({ length: edges }, (_, i) => byAddress.get(`edge/${idOf(i)}`));
    },
    async [Symbol.asyncDispose]() {
      for (const load of loads) load.child.kill('SIGKILL');
      for (const { process: g, dataDir } of gateways) {
        await Promise.race([g.stop(), sleep(5000).then(() => g.kill('SIGKILL'))]);
        rmSync(dataDir, { recursive: true, force: true });
      }
      // Graceful stop, so a node run with --cpu-prof writes its profile; kill what hangs.
      await Promise.all(
        [...nodes.values()].map((n) => Promise.race([n.stop(), sleep(5000).then(() => n.kill('SIGKILL'))])),
      );
      redis.disconnect();
      await server.stop();
    },
  };
  return cluster;
}

/**
 * What the edges' states say of what was sent (`lastSeq`: each edge's messages sent, or
 * acknowledged by its broker):
 * - `lost`: sent and never applied (an edge whose state holds more than was acknowledged, a
 *   message applied whose PUBACK was lost, does not make up for another's loss);
 * - `duplicated`: a message that arrived again and that the edge actor recognized by its sequence
 *   number and did not apply (a QoS 1 redelivery: at least once on the wire, once in the state).
 *   What the state counts is each number once, so applying twice would not show here: the actor
 *   tests check that a repeat is not applied.
 */
export function reconcile(
  lastSeq: readonly number[],
  states: readonly (EdgeState | undefined)[],
): { lost: number; duplicated: number; received: number } {
  let lost = 0;
  let duplicated = 0;
  let received = 0;
  lastSeq.forEach((sent, i) => {
    const s = states[i]?.seq;
    const applied = s?.received ?? 0;
    received += applied;
    lost += Math.max(0, sent - applied);
    duplicated += s?.duplicates ?? 0;
  });
  return { lost, duplicated, received };
}
