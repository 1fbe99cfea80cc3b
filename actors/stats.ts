/** Reading the stats every hub node publishes each second (demo, benchmarks, dashboards). */
import type { Keyspace, Redis } from '../bus/mod.ts';
import { liveMembers } from './membership.ts';
import type { NodeStats } from './node/mod.ts';

/**
 * The published stats of the live hub nodes; with `departed`, also the last stats of nodes that
 * stopped or died (benchmarks count what every process handled).
 */
export async function readNodeStats(
  redis: Redis,
  keyspace: Keyspace,
  options: { departed?: boolean } = {},
): Promise<NodeStats[]> {
  const [all, live] = await Promise.all([
    redis.hgetall(keyspace.nodeStats),
    options.departed ? undefined : liveMembers(redis, keyspace),
  ]);
  const alive = live === undefined ? undefined : new Set(live);
  return Object.values(all)
    .map((json) => JSON.parse(json) as NodeStats)
    .filter((s) => alive === undefined || alive.has(s.node))
    .sort((a, b) => a.node.localeCompare(b.node));
}
