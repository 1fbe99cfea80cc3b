/**
 * For test files: one real Redis per file, a fresh key namespace per test.
 *
 * `DEVICEHUB_TEST_REDIS=cluster` runs the same file against a real Redis Cluster (3 masters,
 * 3 replicas) instead of one redis-server, with keyspaces spread over 8 hash-tag groups: the
 * suite's cluster pass (infra/test.sh).
 */
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import type { Redis as Single } from 'ioredis';
import { type HubNode, type HubNodeOptions, readActorState, startHubNode } from '../actors/mod.ts';
import {
  type Bus,
  connectRedis,
  createKeyspace,
  isCluster,
  type Keyspace,
  type KeyspaceOptions,
  openBus,
  type Redis,
} from '../bus/mod.ts';
import { type EdgeState, edgeActor, rolloutActor } from '../edge/mod.ts';
import { type HubProcess, keyspaceArgs, spawnHubNode } from './hub-process.ts';
import { startRedisCluster } from './redis-cluster.ts';
import { commandStats } from './redis-commandstats.ts';
import { startRedisServer } from './redis-server.ts';

/** What a test may do to its Redis: one server or a whole cluster alike. */
export interface TestRedisServer {
  readonly url: string;
  /** SIGKILL (every node of a cluster). */
  kill(): Promise<void>;
  /** Starts again on the same ports and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Whether this run's Redis is a cluster (`DEVICEHUB_TEST_REDIS=cluster`). */
export const onCluster = process.env.DEVICEHUB_TEST_REDIS === 'cluster';
const TEST_TAG_GROUPS = onCluster ? 8 : 1;

/** One redis-server, or a Redis Cluster on the cluster pass. */
export function startTestRedis(): Promise<TestRedisServer> {
  return onCluster ? startRedisCluster() : startRedisServer();
}

export interface TestRedis {
  server: TestRedisServer;
  /** A connection (with the bus scripts) for the test's own commands. */
  redis: Redis;
  /** A fresh keyspace: random prefix, small by default so tests stay quick. */
  keyspace(options?: KeyspaceOptions): Keyspace;
  /** The bus over `keyspace`, on the test's connection (or `redis`). */
  bus(keyspace: Keyspace, redis?: Redis): Bus;
  /** Extra connections the test opens; closed after the file. */
  connect(name?: string): Redis;
  /** A hub node with the edge and rollout actors (or `actors`) and test timings, on its own connection. */
  hub(keyspace: Keyspace, actors?: HubNodeOptions['actors']): Promise<HubNode>;
  /** A hub node as its own process (`devicehub node`, real signals), with fault-test timings. */
  hubProcess(keyspace: Keyspace, nodeId: string, actorsModule?: string): HubProcess;
  /** `--redis … --prefix … --shards …` for a `devicehub` child process working in `keyspace`. */
  cliArgs(keyspace: Keyspace): string[];
  /** An edge actor's persisted state, if it committed one. */
  edgeState(keyspace: Keyspace, edgeId: string): Promise<EdgeState | undefined>;
  /** Every master, each its own server connection: the one server, or the cluster's masters. */
  masters(): Promise<Single[]>;
  /** Calls Redis answered of the given commands (INFO commandstats names), over every master. */
  commandCalls(...commands: string[]): Promise<number>;
}

/** Starts redis-server before the file's tests and stops it after. */
export function useRedis(): TestRedis {
  const opened: Redis[] = [];
  const t = {} as TestRedis;
  before(async () => {
    t.server = await startTestRedis();
    t.redis = connectRedis(t.server.url, { name: 'test' });
    opened.push(t.redis);
  });
  after(async () => {
    for (const r of opened) r.disconnect();
    await t.server?.stop();
  });
  t.keyspace = (options = {}) => {
    const shards = options.shards ?? 64;
    return createKeyspace({
      shards,
      tagGroups: Math.min(TEST_TAG_GROUPS, shards),
      ...options,
      prefix: `t${randomBytes(4).toString('hex')}`,
    });
  };
  t.bus = (keyspace, redis = t.redis) => openBus({ redis, keyspace });
  t.hub = (keyspace, actors = [edgeActor, rolloutActor]) =>
    startHubNode({ bus: t.bus(keyspace, t.connect('hub')), actors, ...FAST_HUB });
  t.hubProcess = (keyspace, nodeId, actorsModule) =>
    spawnHubNode({
      redisUrl: t.server.url,
      nodeId,
      prefix: keyspace.prefix,
      shards: keyspace.shards,
      tagGroups: keyspace.tagGroups,
      leaseMs: 1000,
      tickMs: 100,
      ...(actorsModule === undefined ? {} : { actorsModule }),
    });
  t.cliArgs = (keyspace) => keyspaceArgs(t.server.url, keyspace);
  t.edgeState = async (keyspace, edgeId) =>
    (await readActorState<EdgeState>(t.bus(keyspace), `edge/${edgeId}`))?.state;
  t.masters = async () => {
    if (!isCluster(t.redis)) return [t.redis];
    await t.redis.exists('masters'); // a cluster client knows its masters once it has answered
    return t.redis.nodes('master');
  };
  t.commandCalls = async (...commands) => {
    let calls = 0;
    for (const master of await t.masters()) {
      const stats = commandStats(await master.info('commandstats'));
      for (const command of commands) calls += stats.get(command)?.calls ?? 0;
    }
    return calls;
  };
  t.connect = (name = 'test') => {
    const r = connectRedis(t.server.url, { name });
    opened.push(r);
    return r;
  };
  return t;
}

/** Hub node timings that keep tests quick (leases, ticks, timers and checkpoints in ~100 ms). */
export const FAST_HUB = { leaseMs: 600, tickMs: 100, timerIntervalMs: 50, checkpointMs: 100 } as const;
