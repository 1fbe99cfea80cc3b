/**
 * Which broker shard an edge connects to, when one mosquitto process cannot hold the fleet (a
 * process here holds at most 20,000 files): `fnv1a32(edgeId) mod shards`, the same answer in every
 * process, so the broker's identities, the simulator process and the link of a shard agree.
 */
import { fnv1a32 } from '../../bus/mod.ts';

export function brokerShardOf(edgeId: string, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1)
    throw new RangeError(`brokerShardOf: shards must be a positive integer, got ${shards}`);
  return fnv1a32(edgeId) % shards;
}

/** The indices (0…edges-1) of the edges whose id `idOf(i)` falls in `shard` of `shards`. */
export function shardEdgeIndices(
  edges: number,
  o: { readonly shard: number; readonly shards: number; readonly idOf: (i: number) => string },
): number[] {
  const out: number[] = [];
  for (let i = 0; i < edges; i++) if (brokerShardOf(o.idOf(i), o.shards) === o.shard) out.push(i);
  return out;
}
