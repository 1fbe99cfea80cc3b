/**
 * Shard leases with fencing tokens (acquire.lua, renew.lua, release.lua): one script call per
 * hash-tag group, every group on one pipeline.
 */
import type { ChainableCommander } from 'ioredis';
import type { Bus } from './bus.ts';
import { CONSUMER_GROUP, groupByTag } from './keys.ts';
import { type Queued, queuePerGroup, sumOf } from './queued.ts';
import { acquireReply, type Granted, releaseReply, renewReply } from './replies.ts';

export interface AcquireLeases {
  readonly node: string;
  readonly shards: readonly number[];
  readonly ttlMs: number;
}

export interface RenewLeases {
  readonly node: string;
  readonly held: readonly { readonly shard: number; readonly epoch: number }[];
  readonly ttlMs: number;
}

export interface ReleaseLeases {
  readonly node: string;
  readonly held: readonly { readonly shard: number; readonly epoch: number }[];
}

/** The tag groups of `shards`, each a list of its shards' items. */
function tagGroups<T extends { readonly shard: number }>(bus: Bus, items: readonly T[]): T[][] {
  return [...groupByTag(bus.keyspace, items).values()];
}

/** Queues acquire.lua per tag group; reads the leases granted (the others are held elsewhere). */
export function queueAcquireLeases(
  bus: Bus,
  pipeline: ChainableCommander,
  input: AcquireLeases,
): Queued<Granted[]> {
  const { keyspace } = bus;
  const groups = tagGroups(
    bus,
    input.shards.map((shard) => ({ shard })),
  );
  return queuePerGroup(pipeline, {
    script: 'acquire',
    groups,
    call: (list) => ({
      keys: list.flatMap(({ shard }) => [keyspace.shard(shard).lease, keyspace.shard(shard).mailbox]),
      args: [input.node, input.ttlMs, CONSUMER_GROUP],
    }),
    parse: (replies) => groups.flatMap((list, g) => acquireReply(replies[g], shardsOf(list))),
  });
}

/** Queues renew.lua per tag group; reads the shards whose lease was lost. */
export function queueRenewLeases(
  bus: Bus,
  pipeline: ChainableCommander,
  input: RenewLeases,
): Queued<number[]> {
  const groups = tagGroups(bus, input.held);
  return queuePerGroup(pipeline, {
    script: 'renew',
    groups,
    call: (list) => ({
      keys: leaseKeys(bus, list),
      args: [input.node, input.ttlMs, ...list.map(({ epoch }) => epoch)],
    }),
    parse: (replies) => groups.flatMap((list, g) => renewReply(replies[g], shardsOf(list))),
  });
}

/** Queues release.lua per tag group; reads how many leases were released. */
export function queueReleaseLeases(
  bus: Bus,
  pipeline: ChainableCommander,
  input: ReleaseLeases,
): Queued<number> {
  return queuePerGroup(pipeline, {
    script: 'release',
    groups: tagGroups(bus, input.held),
    call: (list) => ({ keys: leaseKeys(bus, list), args: [input.node, ...list.map(({ epoch }) => epoch)] }),
    parse: sumOf(releaseReply),
  });
}

const shardsOf = (list: readonly { readonly shard: number }[]): number[] => list.map(({ shard }) => shard);

const leaseKeys = (bus: Bus, list: readonly { readonly shard: number }[]): string[] =>
  list.map(({ shard }) => bus.keyspace.shard(shard).lease);
