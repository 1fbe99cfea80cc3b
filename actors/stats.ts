/** Reading the stats every hub node publishes each second (demo, benchmarks, dashboards). */
import { type Bus, liveMembers } from '../bus/mod.ts';
import type { NodeStats } from './node/mod.ts';

/**
 * The published stats of the live hub nodes; with `departed`, also the last stats of nodes that
 * stopped or died (benchmarks count what every process handled).
 */
export async function readNodeStats(bus: Bus, options: { departed?: boolean } = {}): Promise<NodeStats[]> {
  const [all, live] = await Promise.all([
    bus.redis.hgetall(bus.keyspace.nodeStats),
    options.departed ? undefined : liveMembers(bus),
  ]);
  const alive = live === undefined ? undefined : new Set(live);
  return Object.values(all)
    .map((json) => JSON.parse(json) as NodeStats)
    .filter((s) => alive === undefined || alive.has(s.node))
    .sort((a, b) => a.node.localeCompare(b.node));
}
