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
 * Most mailboxes one trim script walks (XINFO GROUPS, XPENDING and XTRIM each, ~15 µs a stream on
 * this project's machines): ~1 ms of Redis at a time, so the other clients' commands go between
 * the chunks instead of waiting behind one ~15 ms script of 1,024 streams (decision 060).
 */
export const TRIM_CHUNK_STREAMS = 64;

/**
 * Trims the mailboxes of the given shards (consumer group `hub`); resolves with the entries
 * removed and the shards' backlog (entries not yet delivered to `hub` plus those delivered and not
 * yet acknowledged), which the script reads from the XINFO GROUPS it trims by: no extra command.
 * One script per `chunk` mailboxes of a tag group, each sent after the last one answered: a
 * pipeline would hand Redis all of them at once, and it runs one client's queued commands back to
 * back.
 */
export async function trimShards(
  bus: Bus,
  shards: Iterable<number>,
  chunk: number = TRIM_CHUNK_STREAMS,
): Promise<Trimmed> {
  const { keyspace } = bus;
  const sum = { removed: 0, backlog: 0 };
  for (const list of groupByTag(
    keyspace,
    [...shards].map((shard) => ({ shard })),
  ).values()) {
    for (let i = 0; i < list.length; i += chunk) {
      const keys = list.slice(i, i + chunk).map(({ shard }) => keyspace.shard(shard).mailbox);
      const t = trimReply(await runScript(bus.redis, 'trim', keys, [CONSUMER_GROUP]));
      sum.removed += t.removed;
      sum.backlog += t.backlog;
    }
  }
  return sum;
}

/** Trims a tag group's outbox stream, read by every consumer group it has (relays, sink). */
export async function trimOutbox(bus: Bus, group: number): Promise<number> {
  return trimReply(await runScript(bus.redis, 'trim', [bus.keyspace.outbox(group)], ['*'])).removed;
}
