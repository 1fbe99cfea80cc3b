/**
 * Redis connections for DeviceHub: one factory, so every part of the system connects the same
 * way and has the bus's Lua scripts registered.
 */
import { Cluster, Redis as Single } from 'ioredis';
import { registerScripts } from './scripts.ts';

/** A connection to one Redis server or to a Redis Cluster: the bus works the same on both. */
export type Redis = Single | Cluster;

export interface ConnectOptions {
  /** Connection name shown by CLIENT LIST, e.g. `node:n1`. */
  name?: string;
  /** Fail commands at once instead of queueing them while disconnected. Default false. */
  failFast?: boolean;
}

/**
 * Opens a connection with the bus's scripts defined on it, to `redis://host:port/db` (one
 * server) or `redis+cluster://host:port,host:port,…` (a Redis Cluster: any reachable nodes; the
 * rest are discovered).
 */
export function connectRedis(url: string, options: ConnectOptions = {}): Redis {
  const retryStrategy = (times: number) => Math.min(50 * 2 ** times, 1000);
  const common = {
    connectionName: options.name,
    maxRetriesPerRequest: options.failFast ? 0 : null,
    // Replies decoded as text by the parser (patches/ioredis, decision 072): no Buffer per bulk
    // string converted again, no array copied. Nothing of ours sends a *Buffer command.
    textReplies: true,
  };
  if (url.startsWith('redis+cluster://')) {
    const cluster = new Cluster(parseClusterSeeds(url), {
      redisOptions: common,
      enableOfflineQueue: !options.failFast,
      clusterRetryStrategy: retryStrategy,
      // A failover takes a node timeout or two: keep retrying moved or down slots meanwhile.
      retryDelayOnClusterDown: 200,
      retryDelayOnFailover: 200,
      retryDelayOnTryAgain: 100,
      maxRedirections: 64,
      slotsRefreshTimeout: 2000,
    });
    registerScripts(cluster);
    return cluster;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new RangeError(`Cannot connect to Redis: "${url}" is not a URL (expected redis://host:port)`, {
      cause,
    });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new RangeError(
      `Cannot connect to Redis: protocol must be redis:, rediss: or redis+cluster:, got "${parsed.protocol}"`,
    );
  }
  const redis = new Single(url, {
    ...common,
    enableAutoPipelining: false,
    enableOfflineQueue: !options.failFast,
    retryStrategy,
  });
  registerScripts(redis);
  return redis;
}

/**
 * A second connection like `redis` (same server or cluster, scripts defined), for blocking reads
 * and subscriptions; commands on it wait out disconnections instead of failing.
 */
export function duplicateRedis(redis: Redis): Redis {
  const copy = isCluster(redis)
    ? redis.duplicate(undefined, {
        redisOptions: { ...redis.options.redisOptions, maxRetriesPerRequest: null },
      })
    : redis.duplicate({ maxRetriesPerRequest: null });
  registerScripts(copy);
  return copy;
}

/** Closes of each connection object's connections (every node's, on a cluster), counted from first use. */
const dropCounters = new WeakMap<Redis, { count: number }>();

/**
 * ioredis sends a command again after a reconnect when its reply was lost with the old
 * connection, so a command that changes state may have run twice: this counts the closes a read
 * is compared against (unlessDropped).
 */
function connectionDrops(redis: Redis): { readonly count: number } {
  let counter = dropCounters.get(redis);
  if (counter !== undefined) return counter;
  const drops = { count: 0 };
  const watch = (connection: Single) => connection.on('close', () => drops.count++);
  if (isCluster(redis)) {
    for (const node of redis.nodes()) watch(node);
    redis.on('+node', watch);
  } else {
    watch(redis);
  }
  counter = drops;
  dropCounters.set(redis, counter);
  return counter;
}

/**
 * Runs `read`, a read that moves entries into a pending list (XREADGROUP `>`), and returns its
 * reply, or `undefined` when a connection of `redis` closed meanwhile: the reply may then stand
 * for a second run of the command, the first one's entries pending unseen. The caller reads its
 * pending entries again (from `0`), in order, instead.
 */
export async function unlessDropped<T>(redis: Redis, read: () => Promise<T>): Promise<T | undefined> {
  const drops = connectionDrops(redis);
  const before = drops.count;
  const reply = await read();
  return drops.count === before ? reply : undefined;
}

/** Whether a connection is to a Redis Cluster (pipelines then split by node, see pipeline.ts). */
export function isCluster(redis: Redis): redis is Cluster {
  return redis instanceof Cluster;
}

/** `redis+cluster://[user:pass@]h1:p1,h2:p2` → ioredis seed nodes. */
function parseClusterSeeds(url: string): { host: string; port: number }[] {
  const rest = url.slice('redis+cluster://'.length).replace(/\/.*$/, '');
  const seeds = rest
    .replace(/^[^@]*@/, '')
    .split(',')
    .filter((s) => s !== '')
    .map((hostPort) => {
      const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(hostPort);
      if (!match) {
        throw new RangeError(
          `Cannot connect to Redis Cluster: "${hostPort}" in "${url}" is not host:port (expected redis+cluster://host:port,host:port)`,
        );
      }
      return { host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2]) };
    });
  if (seeds.length === 0) {
    throw new RangeError(
      `Cannot connect to Redis Cluster: "${url}" names no node (expected redis+cluster://host:port,…)`,
    );
  }
  return seeds;
}
