/**
 * Mailboxes: appending messages for actors and reading a node's shards in batches.
 *
 * One stream per shard holds the mailboxes of the shard's actors (each entry names its actor);
 * the shard's owner reads it through the consumer group `hub`, one XREADGROUP per hash-tag
 * group for all the shards it owns, and acknowledges entries only when the turn that applied
 * them is committed (see commit.lua).
 */
import type { ChainableCommander } from 'ioredis';
import { decodeEntry, encodeEntry, type MailboxEntry, type MailboxMessage } from './entry.ts';
import { MalformedEntryError } from './errors.ts';
import { CONSUMER_GROUP, groupByTag, type Keyspace, type ShardKeys } from './keys.ts';
import { execOrThrow, openPipeline } from './pipeline.ts';
import type { Redis } from './redis.ts';
import { runScript } from './scripts.ts';

/**
 * Queues each message on a pipeline (for senders that batch): appended to its shard's mailbox
 * and the shard marked ready, atomically (enqueue.lua).
 */
export function queueMessages(
  pipeline: ChainableCommander,
  keyspace: Keyspace,
  messages: readonly MailboxMessage[],
  now = Date.now(),
): void {
  for (const message of messages) {
    const fields = encodeEntry(message, now);
    const shard = keyspace.shard(keyspace.shardOf(message.address));
    runScript(pipeline, 'enqueue', [shard.mailbox, keyspace.ready(shard.group)], [shard.shard, ...fields]);
  }
}

/** A mailbox message encoded for enqueue-many.lua: its shard and its `a`, `m`, `p`, `t` values. */
export interface EncodedMessage {
  readonly shard: ShardKeys;
  readonly fields: readonly [string, string, string, string];
}

/**
 * Encodes one message for `queueEncodedMessages`; throws `InvalidMessageError` for what no actor
 * could take (so a sender that batches can refuse that message alone, before the batch).
 */
export function encodeMessage(keyspace: Keyspace, message: MailboxMessage, at: number): EncodedMessage {
  const fields = encodeEntry(message, at);
  return {
    shard: keyspace.shard(keyspace.shardOf(message.address)),
    fields: [fields[1]!, fields[3]!, fields[5]!, fields[7]!],
  };
}

/**
 * Queues encoded messages on a pipeline as one script call per hash-tag group (enqueue-many.lua):
 * for senders with batches of small messages, where a call per message costs more than the message.
 */
export function queueEncodedMessages(
  pipeline: ChainableCommander,
  keyspace: Keyspace,
  messages: readonly EncodedMessage[],
): void {
  const byGroup = new Map<number, { keys: string[]; args: string[] }>();
  for (const { shard, fields } of messages) {
    let call = byGroup.get(shard.group);
    if (call === undefined) {
      call = { keys: [keyspace.ready(shard.group)], args: [] };
      byGroup.set(shard.group, call);
    }
    call.keys.push(shard.mailbox);
    call.args.push(String(shard.shard), ...fields);
  }
  for (const { keys, args } of byGroup.values()) runScript(pipeline, 'enqueue-many', keys, args);
}

/** `queueEncodedMessages` of messages encoded here; `at` gives each one's enqueue time (default `now`). */
export function queueMessageBatch(
  pipeline: ChainableCommander,
  keyspace: Keyspace,
  messages: readonly MailboxMessage[],
  at?: (index: number) => number,
  now = Date.now(),
): void {
  const encoded = messages.map((message, i) => encodeMessage(keyspace, message, at?.(i) ?? now));
  queueEncodedMessages(pipeline, keyspace, encoded);
}

/** Appends messages in one round trip; resolves with their stream ids once Redis holds them. */
export async function appendMessages(
  redis: Redis,
  keyspace: Keyspace,
  messages: readonly MailboxMessage[],
): Promise<string[]> {
  const pipeline = openPipeline(redis);
  queueMessages(pipeline, keyspace, messages);
  return (await execOrThrow(pipeline)).map(String);
}

export interface ShardRead {
  readonly shard: number;
  /** `>` for new entries; an id for this consumer's pending entries after it (`0`: all). */
  readonly from: string;
}

export interface RawShardEntries {
  readonly shard: number;
  readonly entries: { id: string; fields: string[] }[];
}

/**
 * Reads new entries of the shards marked ready, among those in `readable` (a `shardMask` and
 * the tag groups it covers), one script call
 * per tag group, all in one pipeline (read-ready.lua). The cost follows the shards that have
 * work, not the shards a node holds.
 */
export async function readReady(
  redis: Redis,
  keyspace: Keyspace,
  consumer: string,
  readable: { readonly mask: string; readonly groups: readonly number[] },
  count: number,
): Promise<RawShardEntries[]> {
  const { mask, groups } = readable;
  if (groups.length === 0) return [];
  const pipeline = openPipeline(redis);
  for (const group of groups) {
    runScript(
      pipeline,
      'read-ready',
      [keyspace.ready(group)],
      [CONSUMER_GROUP, consumer, count, mask, keyspace.mailboxTemplate(group), keyspace.leaseTemplate(group)],
    );
  }
  const out: RawShardEntries[] = [];
  for (const reply of await execOrThrow(pipeline)) {
    const flat = reply as (number | [string, string[] | null][])[];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const entries = flat[i + 1] as [string, string[] | null][];
      out.push({
        shard: Number(flat[i]),
        entries: entries.map(([id, fields]) => ({ id, fields: fields ?? [] })),
      });
    }
  }
  return out;
}

/**
 * Reads up to `count` entries per shard for `consumer`, one XREADGROUP per tag group, all in
 * one pipeline: new entries (`>`) or this consumer's pending ones after an id. Shards with
 * nothing to read are left out of the result. Used for history (after a takeover) and for the
 * periodic sweep that also finds entries written without the ready signal.
 */
export async function readShards(
  redis: Redis,
  keyspace: Keyspace,
  consumer: string,
  reads: readonly ShardRead[],
  count: number,
): Promise<RawShardEntries[]> {
  if (reads.length === 0) return [];
  const pipeline = openPipeline(redis);
  const lists = [...groupByTag(keyspace, reads).values()];
  for (const list of lists) {
    runScript(
      pipeline,
      'read-shards',
      list.flatMap(({ shard }) => [keyspace.shard(shard).mailbox, keyspace.shard(shard).lease]),
      [CONSUMER_GROUP, consumer, count, ...list.map((read) => read.from)],
    );
  }
  const out: RawShardEntries[] = [];
  const replies = await execOrThrow(pipeline);
  replies.forEach((reply, g) => {
    const flat = reply as (number | [string, string[] | null][])[];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const shard = lists[g]![Number(flat[i]) - 1]!.shard;
      const entries = flat[i + 1] as [string, string[] | null][];
      // A pending entry trimmed or deleted meanwhile comes back with nil fields.
      out.push({ shard, entries: entries.map(([id, fields]) => ({ id, fields: fields ?? [] })) });
    }
  });
  return out;
}

/**
 * Moves every pending entry of a shard to `consumer` (after taking the shard over from a node
 * that died or was fenced). Each claim counts as a delivery. Returns how many were claimed.
 */
export async function claimPending(
  redis: Redis,
  keyspace: Keyspace,
  shard: number,
  consumer: string,
): Promise<number> {
  const key = keyspace.shard(shard).mailbox;
  let cursor = '0-0';
  let claimed = 0;
  for (let i = 0; i < 10_000; i++) {
    const reply = (await redis.xautoclaim(
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

/** Delivery counts of a consumer's pending entries of a shard after id `after` ('0': all). */
export async function pendingDeliveries(
  redis: Redis,
  keyspace: Keyspace,
  shard: number,
  consumer: string,
  options: { after: string; count: number },
): Promise<Map<string, number>> {
  const reply = (await redis.xpending(
    keyspace.shard(shard).mailbox,
    CONSUMER_GROUP,
    options.after === '0' ? '-' : `(${options.after}`,
    '+',
    options.count,
    consumer,
  )) as [string, string, number, number][];
  return new Map(reply.map(([id, , , deliveries]) => [id, Number(deliveries)]));
}

export type DecodedEntry =
  | { ok: true; entry: MailboxEntry }
  | { ok: false; id: string; fields: string[]; reason: string };

/** Decodes one raw entry without throwing: malformed entries come back with the reason. */
export function tryDecode(id: string, fields: string[]): DecodedEntry {
  try {
    return { ok: true, entry: decodeEntry(id, fields) };
  } catch (error) {
    if (error instanceof MalformedEntryError) return { ok: false, id, fields, reason: error.message };
    throw error;
  }
}
