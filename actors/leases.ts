/**
 * Reading shard leases from outside the runtime (dashboards, tests, benchmarks). Taking, renewing
 * and releasing them are bus operations (`Bus.acquireLeases`, `renewLeases`, `releaseLeases`).
 */
import type { Bus } from '../bus/mod.ts';

/** Current holder and epoch of every shard's lease. */
export async function readLeases(
  bus: Bus,
): Promise<{ shard: number; node: string; epoch: number; until: number }[]> {
  const { keyspace } = bus;
  const pipeline = bus.pipeline();
  for (let s = 0; s < keyspace.shards; s++) pipeline.hmget(keyspace.shard(s).lease, 'node', 'epoch', 'until');
  const replies = (await bus.exec(pipeline)).map(([error, reply]) => {
    if (error) throw error;
    return reply as (string | null)[];
  });
  return replies.map(([node, epoch, until], shard) => ({
    shard,
    node: node ?? '',
    epoch: Number(epoch ?? 0),
    until: Number(until ?? 0),
  }));
}
