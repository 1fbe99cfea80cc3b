/**
 * A shard holder's upkeep: firing due durable timers into mailboxes (fire-timers.lua) and trimming
 * the streams of entries every consumer has finished with (trim.lua).
 */
import type { Bus } from './bus.ts';
import { CONSUMER_GROUP, groupByTag, shardMask } from './keys.ts';
import { queuePerGroup, sumOf } from './queued.ts';
import { fireTimersReply, type Trimmed, trimReply } from './replies.ts';
import { runScript } from './scripts.ts';

export interface FireTimers {
  /** The shards the node holds: only their timers fire. */
  readonly shards: ReadonlySet<number>;
  /** Most due timers to look at per tag group (default 2000). */
  readonly limit?: number;
}

/** Moves the due timers of the given shards into their mailboxes; resolves with how many fired. */
export async function fireTimers(bus: Bus, input: FireTimers): Promise<number> {
  const { keyspace } = bus;
  const { shards, limit = 2000 } = input;
  if (shards.size === 0) return 0;
  const mask = shardMask(keyspace, shards);
  const groups = new Set([...shards].map((s) => keyspace.groupOf(s)));
  const pipeline = bus.pipeline();
  const fired = queuePerGroup(pipeline, {
    script: 'fire-timers',
    groups: [...groups],
    call: (group) => ({
      keys: [keyspace.timers(group), keyspace.timerData(group), keyspace.ready(group)],
      args: [limit, mask, keyspace.mailboxTemplate(group)],
    }),
    parse: sumOf(fireTimersReply),
  });
  return fired.read(await bus.exec(pipeline));
}

/**
 * The mailboxes' backlog per tag group, in group order: entries not yet delivered to `hub` plus
 * those delivered and not yet acknowledged (backlog.lua: one script call per group, not one
 * XINFO per shard — a gateway's metrics scrape sent 1,024 commands).
 */
export async function mailboxBacklog(bus: Bus): Promise<number[]> {
  const { keyspace } = bus;
  const groups = Array.from({ length: keyspace.tagGroups }, (_, g) => g);
  const pipeline = bus.pipeline();
  const backlog = queuePerGroup(pipeline, {
    script: 'backlog',
    groups,
    call: (group) => {
      const keys: string[] = [];
      for (let shard = group; shard < keyspace.shards; shard += keyspace.tagGroups)
        keys.push(keyspace.shard(shard).mailbox);
      return { keys, args: [CONSUMER_GROUP] };
    },
    parse: (replies) => replies.map(Number),
  });
  return backlog.read(await bus.exec(pipeline));
}

/**
 * Trims the mailboxes of the given shards (consumer group `hub`); resolves with the entries
 * removed and the shards' backlog (entries not yet delivered to `hub` plus those delivered and not
 * yet acknowledged), which the script reads from the XINFO GROUPS it trims by: no extra command.
 */
export async function trimShards(bus: Bus, shards: Iterable<number>): Promise<Trimmed> {
  const { keyspace } = bus;
  const groups = [
    ...groupByTag(
      keyspace,
      [...shards].map((shard) => ({ shard })),
    ).values(),
  ];
  if (groups.length === 0) return { removed: 0, backlog: 0 };
  const pipeline = bus.pipeline();
  const trimmed = queuePerGroup(pipeline, {
    script: 'trim',
    groups,
    call: (list) => ({
      keys: list.map(({ shard }) => keyspace.shard(shard).mailbox),
      args: [CONSUMER_GROUP],
    }),
    parse: (replies) =>
      replies
        .map(trimReply)
        .reduce((sum, t) => ({ removed: sum.removed + t.removed, backlog: sum.backlog + t.backlog }), {
          removed: 0,
          backlog: 0,
        }),
  });
  return trimmed.read(await bus.exec(pipeline));
}

/** Trims a tag group's outbox stream, read by every consumer group it has (relays, sink). */
export async function trimOutbox(bus: Bus, group: number): Promise<number> {
  return trimReply(await runScript(bus.redis, 'trim', [bus.keyspace.outbox(group)], ['*'])).removed;
}
