/**
 * Shard leases with fencing tokens (acquire.lua, renew.lua, release.lua): one script call per
 * hash-tag group, every group on one pipeline.
 */
import type { ChainableCommander } from 'ioredis';
import type { Bus } from './bus.ts';
import { CONSUMER_GROUP, groupByTag } from './keys.ts';
import { type Queued, queueOperation } from './queued.ts';
import { acquireReply, type Granted, releaseReply, renewReply } from './replies.ts';
import { runScript } from './scripts.ts';

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

/** Queues acquire.lua per tag group; reads the leases granted (the others are held elsewhere). */
export function queueAcquireLeases(
  bus: Bus,
  pipeline: ChainableCommander,
  input: AcquireLeases,
): Queued<Granted[]> {
  const { keyspace } = bus;
  const groups = [
    ...groupByTag(
      keyspace,
      input.shards.map((shard) => ({ shard })),
    ).values(),
  ];
  return queueOperation(
    pipeline,
    (p) => {
      for (const list of groups) {
        const keys = list.flatMap(({ shard }) => [
          keyspace.shard(shard).lease,
          keyspace.shard(shard).mailbox,
        ]);
        runScript(p, 'acquire', keys, [input.node, input.ttlMs, CONSUMER_GROUP]);
      }
    },
    (replies) =>
      groups.flatMap((list, g) =>
        acquireReply(
          replies[g],
          list.map(({ shard }) => shard),
        ),
      ),
  );
}

/** Queues renew.lua per tag group; reads the shards whose lease was lost. */
export function queueRenewLeases(
  bus: Bus,
  pipeline: ChainableCommander,
  input: RenewLeases,
): Queued<number[]> {
  const { keyspace } = bus;
  const groups = [...groupByTag(keyspace, input.held).values()];
  return queueOperation(
    pipeline,
    (p) => {
      for (const list of groups)
        runScript(
          p,
          'renew',
          list.map(({ shard }) => keyspace.shard(shard).lease),
          [input.node, input.ttlMs, ...list.map(({ epoch }) => epoch)],
        );
    },
    (replies) =>
      groups.flatMap((list, g) =>
        renewReply(
          replies[g],
          list.map(({ shard }) => shard),
        ),
      ),
  );
}

/** Queues release.lua per tag group; reads how many leases were released. */
export function queueReleaseLeases(
  bus: Bus,
  pipeline: ChainableCommander,
  input: ReleaseLeases,
): Queued<number> {
  const { keyspace } = bus;
  const groups = [...groupByTag(keyspace, input.held).values()];
  return queueOperation(
    pipeline,
    (p) => {
      for (const list of groups)
        runScript(
          p,
          'release',
          list.map(({ shard }) => keyspace.shard(shard).lease),
          [input.node, ...list.map(({ epoch }) => epoch)],
        );
    },
    (replies) => replies.reduce<number>((sum, reply) => sum + releaseReply(reply), 0),
  );
}
