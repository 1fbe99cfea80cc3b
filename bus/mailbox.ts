/**
 * Mailboxes: appending messages for actors (enqueue-many.lua) and reading a node's
 * shards in batches (read-ready.lua, read-shards.lua).
 *
 * One stream per shard holds the mailboxes of the shard's actors (each entry names its actor);
 * the shard's owner reads it through the consumer group `hub`, one script call per hash-tag
 * group for all the shards it owns, and acknowledges entries only when the turn that applied
 * them is committed (see commit.lua).
 */
import type { ChainableCommander } from 'ioredis';
import type { Bus } from './bus.ts';
import {
  decodeRawEntry,
  encodeEntry,
  type MailboxEntry,
  type MailboxMessage,
  type RawEntry,
  rawEntryFields,
} from './entry.ts';
import { MalformedEntryError } from './errors.ts';
import { CONSUMER_GROUP, groupByTag, type ShardKeys } from './keys.ts';
import { type Queued, queueOperation, queuePerGroup } from './queued.ts';
import { enqueueManyReply, type RawShardEntries, readReadyReply, readShardsReply } from './replies.ts';
import { runScript } from './scripts.ts';

/** Messages to enqueue and their enqueue time. */
export interface Enqueue {
  readonly messages: readonly MailboxMessage[];
  /** Their enqueue time (ms; default: now). */
  readonly now?: number | undefined;
}

/**
 * Queues the messages, one enqueue-many.lua call per hash-tag group (appended to their shards'
 * mailboxes and the shards marked ready, atomically); reads their entry ids in order. Nothing is
 * written when one of them could not be taken (InvalidMessageError).
 */
export function queueEnqueue(bus: Bus, pipeline: ChainableCommander, input: Enqueue): Queued<string[]> {
  const { messages, now = Date.now() } = input;
  const encoded = messages.map((message) => encodeMessage(bus, message, now));
  return queueEnqueueMany(bus, pipeline, encoded);
}

/** A mailbox message encoded for enqueue-many.lua: its shard and its `a`, `m`, `p`, `t` values. */
export interface EncodedMessage {
  readonly shard: ShardKeys;
  readonly fields: readonly [string, string, string, string];
}

/**
 * Encodes one message for `queueEnqueueMany`; throws `InvalidMessageError` for what no actor
 * could take (so a sender that batches can refuse that message alone, before the batch).
 */
export function encodeMessage(bus: Bus, message: MailboxMessage, at: number): EncodedMessage {
  const fields = encodeEntry(message, at);
  return {
    shard: bus.keyspace.shard(bus.keyspace.shardOf(message.address)),
    fields: [fields[1]!, fields[3]!, fields[5]!, fields[7]!],
  };
}

/**
 * Queues encoded messages as one script call per hash-tag group (enqueue-many.lua): for senders
 * with batches of small messages, where a call per message costs more than the message. Reads
 * the entry ids in the order of `messages`.
 */
export function queueEnqueueMany(
  bus: Bus,
  pipeline: ChainableCommander,
  messages: readonly EncodedMessage[],
): Queued<string[]> {
  const byGroup = new Map<number, { keys: string[]; args: string[]; order: number[] }>();
  messages.forEach(({ shard, fields }, i) => {
    let call = byGroup.get(shard.group);
    if (call === undefined) {
      call = { keys: [bus.keyspace.ready(shard.group)], args: [], order: [] };
      byGroup.set(shard.group, call);
    }
    call.keys.push(shard.mailbox);
    call.args.push(String(shard.shard), ...fields);
    call.order.push(i);
  });
  const calls = [...byGroup.values()];
  return queueOperation(
    pipeline,
    (p) => {
      for (const { keys, args } of calls) runScript(p, 'enqueue-many', keys, args);
    },
    (replies) => {
      const ids = new Array<string>(messages.length);
      calls.forEach(({ order }, g) => {
        enqueueManyReply(replies[g], order.length).forEach((id, j) => {
          ids[order[j]!] = id;
        });
      });
      return ids;
    },
  );
}

/** Which shards a node reads new entries of: a `shardMask` and the tag groups it covers. */
export interface ReadableShards {
  readonly mask: string;
  readonly groups: readonly number[];
}

export interface ReadReady {
  /** The consumer (node id) reading. */
  readonly consumer: string;
  readonly readable: ReadableShards;
  /** Most entries per shard. */
  readonly count: number;
}

/**
 * Reads new entries of the shards marked ready, among those in `readable`, one script call per
 * tag group, all in one pipeline (read-ready.lua). The cost follows the shards that have work,
 * not the shards a node holds.
 */
export async function readReady(bus: Bus, input: ReadReady): Promise<RawShardEntries[]> {
  const { mask, groups } = input.readable;
  if (groups.length === 0) return [];
  const { keyspace } = bus;
  const pipeline = bus.pipeline();
  const read = queuePerGroup(pipeline, {
    script: 'read-ready',
    groups,
    call: (group) => ({
      keys: [keyspace.ready(group)],
      args: [
        CONSUMER_GROUP,
        input.consumer,
        input.count,
        mask,
        keyspace.mailboxTemplate(group),
        keyspace.leaseTemplate(group),
      ],
    }),
    parse: (replies) => replies.flatMap(readReadyReply),
  });
  return read.read(await bus.exec(pipeline));
}

export interface ShardRead {
  readonly shard: number;
  /** `>` for new entries; an id for this consumer's pending entries after it (`0`: all). */
  readonly from: string;
}

export interface ReadShards {
  readonly consumer: string;
  readonly reads: readonly ShardRead[];
  /** Most entries per shard. */
  readonly count: number;
}

/**
 * Reads up to `count` entries per shard for `consumer`, one script call per tag group, all in
 * one pipeline (read-shards.lua): new entries (`>`) or this consumer's pending ones after an id.
 * Shards with nothing to read are left out of the result. Used for history (after a takeover)
 * and for the periodic sweep that also finds entries written without the ready signal.
 */
export async function readShards(bus: Bus, input: ReadShards): Promise<RawShardEntries[]> {
  if (input.reads.length === 0) return [];
  const { keyspace } = bus;
  const lists = [...groupByTag(keyspace, input.reads).values()];
  const pipeline = bus.pipeline();
  const read = queuePerGroup(pipeline, {
    script: 'read-shards',
    groups: lists,
    call: (list) => ({
      keys: list.flatMap(({ shard }) => [keyspace.shard(shard).mailbox, keyspace.shard(shard).lease]),
      args: [CONSUMER_GROUP, input.consumer, input.count, ...list.map((r) => r.from)],
    }),
    parse: (replies) =>
      replies.flatMap((reply, g) =>
        readShardsReply(
          reply,
          lists[g]!.map((r) => r.shard),
        ),
      ),
  });
  return read.read(await bus.exec(pipeline));
}

/**
 * Moves every pending entry of a shard to `consumer` (after taking the shard over from a node
 * that died or was fenced). Each claim counts as a delivery. Returns how many were claimed.
 */
export async function claimPending(bus: Bus, shard: number, consumer: string): Promise<number> {
  const key = bus.keyspace.shard(shard).mailbox;
  let cursor = '0-0';
  let claimed = 0;
  for (let i = 0; i < 10_000; i++) {
    const reply = (await bus.redis.xautoclaim(
      key,
      CONSUMER_GROUP,
      consumer,
      0,
      cursor,
      'COUNT',
      1000,
      'JUSTID',
    )) as [string, string[]];
    claimed += reply[1].length;
    cursor = reply[0];
    if (cursor === '0-0') break;
  }
  return claimed;
}

export interface PendingDeliveries {
  readonly shard: number;
  readonly consumer: string;
  /** Entries after this id ('0': all). */
  readonly after: string;
  readonly count: number;
}

/** Delivery counts of a consumer's pending entries of a shard after an id. */
export async function pendingDeliveries(bus: Bus, input: PendingDeliveries): Promise<Map<string, number>> {
  const reply = (await bus.redis.xpending(
    bus.keyspace.shard(input.shard).mailbox,
    CONSUMER_GROUP,
    input.after === '0' ? '-' : `(${input.after}`,
    '+',
    input.count,
    input.consumer,
  )) as [string, string, number, number][];
  return new Map(reply.map(([id, , , deliveries]) => [id, Number(deliveries)]));
}

export type DecodedEntry =
  | { ok: true; entry: MailboxEntry }
  | { ok: false; id: string; fields: readonly string[]; reason: string };

/** Decodes one raw entry (either form) without throwing: malformed entries come back with the reason. */
export function tryDecode(raw: RawEntry): DecodedEntry {
  try {
    return { ok: true, entry: decodeRawEntry(raw) };
  } catch (error) {
    if (error instanceof MalformedEntryError)
      return { ok: false, id: raw.id, fields: rawEntryFields(raw), reason: error.message };
    throw error;
  }
}
