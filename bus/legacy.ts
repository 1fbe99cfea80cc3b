/**
 * The bus functions as they were before the `Bus` handle, each now one call on it: kept only while
 * their last callers move to `Bus` (issue 13), then removed.
 */
import type { ChainableCommander } from 'ioredis';
import { openBus } from './bus.ts';
import type { DeadLetterBudget, DeadLetterInput } from './dead-letters.ts';
import type { MailboxMessage } from './entry.ts';
import type { Keyspace } from './keys.ts';
import type { EncodedMessage, ShardRead } from './mailbox.ts';
import type { PortRange } from './port-pool.ts';
import type { Redis } from './redis.ts';
import type { RawShardEntries } from './replies.ts';

const on = (redis: Redis, keyspace: Keyspace) => openBus({ redis, keyspace });
const noRedis = undefined as unknown as Redis;

export function queueMessages(
  pipeline: ChainableCommander,
  keyspace: Keyspace,
  messages: readonly MailboxMessage[],
  now = Date.now(),
): void {
  on(noRedis, keyspace).queueEnqueue(pipeline, messages, now);
}

export function encodeMessage(keyspace: Keyspace, message: MailboxMessage, at: number): EncodedMessage {
  return on(noRedis, keyspace).encodeMessage(message, at);
}

export function queueEncodedMessages(
  pipeline: ChainableCommander,
  keyspace: Keyspace,
  messages: readonly EncodedMessage[],
): void {
  on(noRedis, keyspace).queueEnqueueMany(pipeline, messages);
}

export function appendMessages(
  redis: Redis,
  keyspace: Keyspace,
  messages: readonly MailboxMessage[],
): Promise<string[]> {
  return on(redis, keyspace).enqueue(messages);
}

export function readReady(
  redis: Redis,
  keyspace: Keyspace,
  consumer: string,
  readable: { readonly mask: string; readonly groups: readonly number[] },
  count: number,
): Promise<RawShardEntries[]> {
  return on(redis, keyspace).readReady({ consumer, readable, count });
}

export function readShards(
  redis: Redis,
  keyspace: Keyspace,
  consumer: string,
  reads: readonly ShardRead[],
  count: number,
): Promise<RawShardEntries[]> {
  return on(redis, keyspace).readShards({ consumer, reads, count });
}

export function claimPending(
  redis: Redis,
  keyspace: Keyspace,
  shard: number,
  consumer: string,
): Promise<number> {
  return on(redis, keyspace).claimPending(shard, consumer);
}

export function pendingDeliveries(
  redis: Redis,
  keyspace: Keyspace,
  shard: number,
  consumer: string,
  options: { after: string; count: number },
): Promise<Map<string, number>> {
  return on(redis, keyspace).pendingDeliveries({ shard, consumer, ...options });
}

export function queueDeadLetter(
  pipeline: ChainableCommander,
  keyspace: Keyspace,
  letter: DeadLetterInput,
): void {
  on(noRedis, keyspace).queueDeadLetter(pipeline, letter);
}

export function queueEdgeDeadLetter(
  pipeline: ChainableCommander,
  keyspace: Keyspace,
  letter: DeadLetterInput & { readonly code: string },
  options: { readonly edge: string; readonly budget?: DeadLetterBudget },
): void {
  on(noRedis, keyspace).queueEdgeDeadLetter(pipeline, letter, options);
}

export async function holdLease(
  redis: Redis,
  keyspace: Keyspace,
  name: string,
  holder: string,
  ttlMs: number,
): Promise<boolean> {
  return await on(redis, keyspace).holdLease({ name, holder, ttlMs });
}

export async function dropLease(
  redis: Redis,
  keyspace: Keyspace,
  name: string,
  holder: string,
): Promise<void> {
  await on(redis, keyspace).dropLease(name, holder);
}

export function allocatePorts(
  redis: Redis,
  keyspace: Keyspace,
  o: { range: PortRange; count: number; owner: string; claims?: readonly string[] },
): Promise<number[]> {
  return on(redis, keyspace).allocatePorts(o);
}

export function releasePorts(
  redis: Redis,
  keyspace: Keyspace,
  owner: string,
  ports: readonly number[],
  claims: readonly string[] = [],
): Promise<number> {
  return on(redis, keyspace).releasePorts({ owner, ports, claims });
}
