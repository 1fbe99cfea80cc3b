/** Reading the stats every hub node publishes each second (demo, benchmarks, dashboards). */
import type { Keyspace, Redis } from '../bus/mod.ts';
import type { NodeStats } from './node.ts';

export async function readNodeStats(redis: Redis, keyspace: Keyspace): Promise<NodeStats[]> {
  const all = await redis.hgetall(keyspace.nodeStats);
  return Object.values(all)
    .map((json) => JSON.parse(json) as NodeStats)
    .sort((a, b) => a.node.localeCompare(b.node));
}
