/** Reading actors' persisted checkpoints from outside the runtime (gateway, tests, tools). */
import { type Bus, execOrThrow } from '../bus/mod.ts';

export interface PersistedState<S> {
  /** Id of the last mailbox entry the state reflects. */
  readonly lastId: string;
  readonly state: S;
}

/** The actor's last checkpoint, or undefined if it never committed one. */
export async function readActorState<S>(bus: Bus, address: string): Promise<PersistedState<S> | undefined> {
  const { redis, keyspace } = bus;
  const raw = await redis.hget(keyspace.shard(keyspace.shardOf(address)).state, address);
  if (raw === null) return undefined;
  const parsed = JSON.parse(raw) as { id: string; s: S };
  return { lastId: parsed.id, state: parsed.s };
}

/** The indexes of `addresses` by their shard, each shard in the order it first comes. */
function indexesByShard(bus: Bus, addresses: readonly string[]): [number, number[]][] {
  const byShard = new Map<number, number[]>();
  addresses.forEach((address, i) => {
    const shard = bus.keyspace.shardOf(address);
    const list = byShard.get(shard);
    if (list === undefined) byShard.set(shard, [i]);
    else list.push(i);
  });
  return [...byShard];
}

/**
 * The checkpoints of the addresses in `groups` (indexes into `addresses`, by shard): one HMGET per
 * shard, in one round trip; in the order of the groups and of the indexes in each.
 */
async function readShardGroups(
  bus: Bus,
  addresses: readonly string[],
  groups: readonly (readonly [number, readonly number[]])[],
): Promise<(string | null)[]> {
  const pipeline = bus.pipeline();
  for (const [shard, list] of groups)
    pipeline.hmget(bus.keyspace.shard(shard).state, ...list.map((i) => addresses[i]!));
  const replies = (await execOrThrow(pipeline)) as (string | null)[][];
  return groups.flatMap(([, list], k) => list.map((_, j) => replies[k]![j] ?? null));
}

/**
 * The raw checkpoints (JSON, or null where an actor never committed one) of `addresses`, in their
 * order, in one round trip: one HMGET per shard, not one HGET per actor — a gateway reading
 * 50,000 edges' states sends a few hundred commands, not 50,000 (each an ioredis command object
 * alive for the round trip).
 */
export async function readCheckpoints(bus: Bus, addresses: readonly string[]): Promise<(string | null)[]> {
  const out: (string | null)[] = new Array(addresses.length).fill(null);
  if (addresses.length === 0) return out;
  const groups = indexesByShard(bus, addresses);
  const values = await readShardGroups(bus, addresses, groups);
  let k = 0;
  for (const [, list] of groups) for (const i of list) out[i] = values[k++]!;
  return out;
}

/**
 * Reads the checkpoints of `addresses` a page at a time and hands each page to `each` (its
 * addresses and their checkpoints, in the same order) before reading the next: what a caller
 * takes from a page is taken while the page is young. A page is whole shards (at least `page`
 * addresses, but for the last), so each shard is read with one HMGET in all: pages in the given
 * order spread each over most shards, and 50,000 edges in pages of 1,000 cost ~31,000 HMGETs
 * over 1,024 shards instead of 1,024. The addresses come grouped by shard.
 */
export async function forEachCheckpointPage(
  bus: Bus,
  addresses: readonly string[],
  each: (addresses: readonly string[], checkpoints: readonly (string | null)[]) => void | Promise<void>,
  page = 1000,
): Promise<void> {
  const groups = indexesByShard(bus, addresses);
  let start = 0;
  let size = 0;
  for (let g = 0; g < groups.length; g++) {
    size += groups[g]![1].length;
    if (size < page && g < groups.length - 1) continue;
    const pageGroups = groups.slice(start, g + 1);
    const checkpoints = await readShardGroups(bus, addresses, pageGroups);
    await each(
      pageGroups.flatMap(([, list]) => list.map((i) => addresses[i]!)),
      checkpoints,
    );
    start = g + 1;
    size = 0;
  }
}
