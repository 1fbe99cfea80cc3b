/**
 * The demo's Redis (REDIS_URL when set, else a redis-server with its data in ./.devicehub/redis)
 * and its hub nodes, each a process of its own with its /metrics on a loopback port and its log in
 * ./.devicehub/logs/hub-<n>.log.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Bus, connectRedis, createKeyspace, openBus } from '../bus/mod.ts';
import {
  freePorts,
  type HubProcess,
  type RedisServer,
  spawnHubNode,
  startRedisServer,
} from '../infra/mod.ts';
import { LOG_DIR } from './demo-logs.ts';
import { logFile } from './logger.ts';

/** Redis: REDIS_URL when set, else a redis-server with its data in ./.devicehub/redis. */
export async function startServers(): Promise<{ server?: RedisServer; redisUrl: string }> {
  const redisUrl = process.env.REDIS_URL;
  if (redisUrl) return { redisUrl };
  const dir = resolve('.devicehub/redis');
  mkdirSync(dir, { recursive: true });
  const server = await startRedisServer({ dir, fsync: 'everysec' });
  return { server, redisUrl: server.url };
}

export interface Hub {
  /** The demo's keyspace on its own connection. */
  readonly bus: Bus;
  readonly nodes: readonly HubProcess[];
  /** The hub nodes' /metrics URLs. */
  readonly metrics: readonly string[];
}

/** The demo's keyspace and connection, and the hub nodes, each a process of its own. */
export async function startHub(redisUrl: string, nodeCount: number): Promise<Hub> {
  const keyspace = createKeyspace({ prefix: 'demo' });
  const redis = connectRedis(redisUrl, { name: 'demo' });
  redis.on('error', () => {}); // reconnects by itself; the table shows what matters
  await redis.del(keyspace.nodeStats); // counters of an earlier demo run
  const nodes: HubProcess[] = [];
  const metrics: string[] = [];
  const ports = await freePorts(nodeCount);
  for (let i = 1; i <= nodeCount; i++) {
    const metricsPort = ports[i - 1]!;
    metrics.push(`http://127.0.0.1:${metricsPort}/metrics`);
    nodes.push(
      spawnHubNode({
        redisUrl,
        nodeId: `hub-${i}`,
        prefix: keyspace.prefix,
        shards: keyspace.shards,
        logLevel: process.env.DH_LOG_LEVEL ?? 'info',
        logFile: logFile(LOG_DIR, `hub-${i}`),
        metricsPort,
      }),
    );
  }
  await Promise.all(nodes.map((n) => n.ready));
  return { bus: openBus({ redis, keyspace }), nodes, metrics };
}
