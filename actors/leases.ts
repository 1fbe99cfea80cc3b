/**
 * Shard leases with fencing tokens: thin typed wrappers over acquire/renew/release.lua, one
 * script call per hash-tag group, all groups in one pipeline.
 */
import {
  type Bus,
  CONSUMER_GROUP,
  execOrThrow,
  groupByTag,
  type Keyspace,
  openPipeline,
  type Redis,
  runScript,
} from '../bus/mod.ts';

export interface Granted {
  readonly shard: number;
  readonly epoch: number;
  /** The node the lease was taken from after it expired ('' when free, released or ours). */
  readonly previous: string;
}

export async function acquireLeases(
  redis: Redis,
  keyspace: Keyspace,
  node: string,
  shards: readonly number[],
  ttlMs: number,
): Promise<Granted[]> {
  const groups = [
    ...groupByTag(
      keyspace,
      shards.map((shard) => ({ shard })),
    ).values(),
  ];
  if (groups.length === 0) return [];
  const pipeline = openPipeline(redis);
  for (const list of groups) {
    const keys = list.flatMap(({ shard }) => [keyspace.shard(shard).lease, keyspace.shard(shard).mailbox]);
    runScript(pipeline, 'acquire', keys, [node, ttlMs, CONSUMER_GROUP]);
  }
  const replies = (await execOrThrow(pipeline)) as [number, string][][];
  const granted: Granted[] = [];
  groups.forEach((list, g) => {
    list.forEach(({ shard }, i) => {
      const [epoch, previous] = replies[g]![i]!;
      if (Number(epoch) > 0) granted.push({ shard, epoch: Number(epoch), previous: String(previous) });
    });
  });
  return granted;
}

/** Renews held leases; resolves with the shards whose lease was lost. */
export async function renewLeases(
  redis: Redis,
  keyspace: Keyspace,
  node: string,
  held: readonly { shard: number; epoch: number }[],
  ttlMs: number,
): Promise<number[]> {
  const groups = [...groupByTag(keyspace, held).values()];
  if (groups.length === 0) return [];
  const pipeline = openPipeline(redis);
  for (const list of groups) {
    runScript(
      pipeline,
      'renew',
      list.map(({ shard }) => keyspace.shard(shard).lease),
      [node, ttlMs, ...list.map(({ epoch }) => epoch)],
    );
  }
  const replies = (await execOrThrow(pipeline)) as number[][];
  const lost: number[] = [];
  groups.forEach((list, g) => {
    list.forEach(({ shard }, i) => {
      if (Number(replies[g]![i]) !== 1) lost.push(shard);
    });
  });
  return lost;
}

export async function releaseLeases(
  redis: Redis,
  keyspace: Keyspace,
  node: string,
  held: readonly { shard: number; epoch: number }[],
): Promise<number> {
  const groups = [...groupByTag(keyspace, held).values()];
  if (groups.length === 0) return 0;
  const pipeline = openPipeline(redis);
  for (const list of groups) {
    runScript(
      pipeline,
      'release',
      list.map(({ shard }) => keyspace.shard(shard).lease),
      [node, ...list.map(({ epoch }) => epoch)],
    );
  }
  const replies = (await execOrThrow(pipeline)) as number[];
  return replies.reduce((sum, n) => sum + Number(n), 0);
}

/** Current holder and epoch of every shard's lease (for dashboards, tests and benchmarks). */
export async function readLeases(
  bus: Bus,
): Promise<{ shard: number; node: string; epoch: number; until: number }[]> {
  const { keyspace } = bus;
  const pipeline = bus.pipeline();
  for (let s = 0; s < keyspace.shards; s++) pipeline.hmget(keyspace.shard(s).lease, 'node', 'epoch', 'until');
  const replies = (await execOrThrow(pipeline)) as (string | null)[][];
  return replies.map(([node, epoch, until], shard) => ({
    shard,
    node: node ?? '',
    epoch: Number(epoch ?? 0),
    until: Number(until ?? 0),
  }));
}
