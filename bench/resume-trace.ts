/**
 * The failover benchmark's probe, injected into a hub node as its hooks (`devicehub node
 * --trace-resume`): for every actor of a shard the node took over from another node (whose lease
 * expired), the time it handled that actor's first message, written to the `traceResume` hash
 * (`actor address → ms since the epoch`). The scenario reads it to measure each edge's resume time.
 */
import type { HubNodeHooks } from '../actors/mod.ts';
import type { Bus } from '../bus/mod.ts';

export function resumeTracer(bus: Bus): HubNodeHooks {
  /** Shards taken over from another node. */
  const takenOver = new Set<number>();
  /** Actors whose first message after the takeover is recorded. */
  const recorded = new Set<string>();
  return {
    acquired(granted) {
      for (const g of granted) if (g.previous !== '') takenOver.add(g.shard);
    },
    handled({ shard, address, handledAt }) {
      if (!takenOver.has(shard) || recorded.has(address)) return;
      recorded.add(address);
      void bus.redis.hset(bus.keyspace.traceResume, address, handledAt).catch(() => {});
    },
  };
}
