/**
 * Pipelines that work the same on one Redis server and on a Redis Cluster.
 *
 * ioredis refuses a cluster pipeline whose keys live on more than one node, yet the bus batches
 * work of many hash-tag groups (leases, reads, commits) that the cluster spreads over its
 * masters. On a cluster, `openPipeline` therefore sends each command on its own at once: ioredis
 * writes them to the right node's socket back to back, so they still travel pipelined per node,
 * and `exec()` gathers the replies in order. A pipeline was never atomic, so nothing is lost.
 */
import type { ChainableCommander } from 'ioredis';
import { isCluster, type Redis } from './redis.ts';

export function openPipeline(redis: Redis): ChainableCommander {
  if (!isCluster(redis)) return redis.pipeline();
  const replies: Promise<[Error | null, unknown]>[] = [];
  const target = redis as unknown as Record<string | symbol, unknown>;
  const proxy: ChainableCommander = new Proxy({} as ChainableCommander, {
    get(_, property) {
      if (property === 'exec') return async () => await Promise.all(replies);
      if (property === 'length') return replies.length;
      if (property === 'then') return undefined; // not a thenable
      const command = target[property];
      if (typeof command !== 'function') return command;
      return (...args: unknown[]) => {
        const reply = (command as (...a: unknown[]) => Promise<unknown>).apply(redis, args);
        replies.push(
          reply.then(
            (value) => [null, value] as [null, unknown],
            (error: Error) => [error, undefined],
          ),
        );
        return proxy;
      };
    },
  });
  return proxy;
}

/** Runs a pipeline and returns its replies, throwing the first command error instead of hiding it. */
export async function execOrThrow(pipeline: ChainableCommander): Promise<unknown[]> {
  const results = (await pipeline.exec()) ?? [];
  return results.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}
