/**
 * The bus handle: one Redis connection and one keyspace, with one typed operation per Lua script
 * (`lua/*.lua`). Every part of DeviceHub that talks to the bus holds a `Bus` instead of the
 * connection and keyspace apart.
 *
 * Operations that batch (`queue*`) queue their script calls on a pipeline from `pipeline()` and
 * return a `Queued` that reads their typed result from `exec()`'s replies; the others send
 * their own pipeline (one script call per hash-tag group, split per node on Redis Cluster).
 * Replies become results or typed errors in one place: replies.ts.
 */
import type { ChainableCommander } from 'ioredis';
import { type Commit, queueCommit } from './commit.ts';
import {
  type DeadLetterInput,
  type EdgeDeadLetterOptions,
  queueDeadLetter,
  queueEdgeDeadLetter,
} from './dead-letters.ts';
import type { MailboxMessage } from './entry.ts';
import type { Keyspace } from './keys.ts';
import {
  type AcquireLeases,
  queueAcquireLeases,
  queueReleaseLeases,
  queueRenewLeases,
  type ReleaseLeases,
  type RenewLeases,
} from './leases.ts';
import {
  claimPending,
  type EncodedMessage,
  encodeMessage,
  type PendingDeliveries,
  pendingDeliveries,
  queueEnqueue,
  queueEnqueueMany,
  type ReadReady,
  type ReadShards,
  readReady,
  readShards,
} from './mailbox.ts';
import { heartbeat, leave } from './membership.ts';
import { dropLease, type HoldLease, holdLease } from './named-lease.ts';
import { openPipeline } from './pipeline.ts';
import { type AllocatePorts, allocatePorts, type ReleasePorts, releasePorts } from './port-pool.ts';
import { type PipelineReply, type Queued, runQueued, sendPipeline } from './queued.ts';
import { duplicateRedis, type Redis } from './redis.ts';
import type { Granted, MembershipView, RawShardEntries, Trimmed } from './replies.ts';
import { type FireTimers, fireTimers, mailboxBacklog, trimOutbox, trimShards } from './upkeep.ts';

export interface BusOptions {
  /** A connection from connectRedis() (the bus scripts are defined on it). */
  readonly redis: Redis;
  readonly keyspace: Keyspace;
}

export interface Bus {
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  /**
   * A bus over a new connection like this one's (same server or cluster, scripts defined, same
   * keyspace), for blocking reads and subscriptions; the caller closes its `redis` (duplicateRedis).
   */
  duplicate(): Bus;
  /** A pipeline that works the same on one server and on a Redis Cluster (pipeline.ts). */
  pipeline(): ChainableCommander;
  /** Sends a pipeline; every reply, errors included, for `Queued.read`. */
  exec(pipeline: ChainableCommander): Promise<PipelineReply[]>;
  /** heartbeat.lua: records `node` alive for `ttlMs` (Redis clock); the live members then. */
  heartbeat(node: string, ttlMs: number): Promise<MembershipView>;
  /** heartbeat.lua: takes `node` out of the members at once. */
  leave(node: string): Promise<void>;
  /** acquire.lua: takes the shards' leases that are free, expired or the node's; the granted ones. */
  acquireLeases(input: AcquireLeases): Promise<Granted[]>;
  queueAcquireLeases(pipeline: ChainableCommander, input: AcquireLeases): Queued<Granted[]>;
  /** renew.lua: extends the held leases; the shards whose lease was lost. */
  renewLeases(input: RenewLeases): Promise<number[]>;
  queueRenewLeases(pipeline: ChainableCommander, input: RenewLeases): Queued<number[]>;
  /** release.lua: hands held leases back; how many were released. */
  releaseLeases(input: ReleaseLeases): Promise<number>;
  queueReleaseLeases(pipeline: ChainableCommander, input: ReleaseLeases): Queued<number>;
  /** enqueue-many.lua per tag group, in one round trip: their entry ids once Redis holds them. */
  enqueue(messages: readonly MailboxMessage[], now?: number): Promise<string[]>;
  queueEnqueue(
    pipeline: ChainableCommander,
    messages: readonly MailboxMessage[],
    now?: number,
  ): Queued<string[]>;
  /** A message encoded for `enqueueMany`; throws InvalidMessageError for what no actor could take. */
  encodeMessage(message: MailboxMessage, at: number): EncodedMessage;
  /** enqueue-many.lua per tag group: the entry ids in the order of `messages`. */
  enqueueMany(messages: readonly EncodedMessage[]): Promise<string[]>;
  queueEnqueueMany(pipeline: ChainableCommander, messages: readonly EncodedMessage[]): Queued<string[]>;
  /** read-ready.lua per tag group: new entries of the ready shards the node may read (fenced). */
  readReady(input: ReadReady): Promise<RawShardEntries[]>;
  /** read-shards.lua per tag group: new (fenced) or pending entries of the given shards. */
  readShards(input: ReadShards): Promise<RawShardEntries[]>;
  /** Moves a shard's pending entries to `consumer` (after a takeover); how many. */
  claimPending(shard: number, consumer: string): Promise<number>;
  /** Delivery counts of a consumer's pending entries of a shard. */
  pendingDeliveries(input: PendingDeliveries): Promise<Map<string, number>>;
  /** commit.lua per tag group: writes a turn, fenced per shard; the shards refused. */
  commit(input: Commit): Promise<number[]>;
  queueCommit(pipeline: ChainableCommander, input: Commit): Queued<number[]>;
  /** fire-timers.lua per tag group: due timers of the held shards into their mailboxes; how many. */
  fireTimers(input: FireTimers): Promise<number>;
  /** trim.lua per tag group: drops mailbox entries every consumer is done with; how many, and the shards' backlog. */
  trimShards(shards: Iterable<number>): Promise<Trimmed>;
  /** trim.lua: drops a tag group's outbox entries all its consumer groups are done with; how many. */
  trimOutbox(group: number): Promise<number>;
  /** backlog.lua per tag group: the mailboxes' entries not yet handled (unread + read, not committed), per group. */
  mailboxBacklog(): Promise<number[]>;
  /** ports-allocate.lua: ports and claims, all or none (PortsExhaustedError, ClaimTakenError). */
  allocatePorts(input: AllocatePorts): Promise<number[]>;
  /** ports-release.lua: gives back what the owner holds among those named; ports released. */
  releasePorts(input: ReleasePorts): Promise<number>;
  /** lease.lua `hold`: takes or extends a named lease; true when held. */
  holdLease(input: HoldLease): Promise<boolean>;
  /** lease.lua `drop`: gives a named lease up if `holder` has it; true when they had it. */
  dropLease(name: string, holder: string): Promise<boolean>;
  /** dead-letter.lua: a device message's dead letter within its edge's budget; reads whether stored. */
  queueEdgeDeadLetter(
    pipeline: ChainableCommander,
    letter: DeadLetterInput & { readonly code: string },
    options: EdgeDeadLetterOptions,
  ): Queued<boolean>;
  /** XADD of a dead letter to the capped stream (no script); reads its id. */
  queueDeadLetter(pipeline: ChainableCommander, letter: DeadLetterInput): Queued<string>;
}

/** The bus over `redis` (from connectRedis) and `keyspace`. */
export function openBus(options: BusOptions): Bus {
  const { redis, keyspace } = options;
  const alone = <T>(queue: (pipeline: ChainableCommander) => Queued<T>) => runAlone(bus, queue);
  const bus: Bus = {
    redis,
    keyspace,
    duplicate: () => openBus({ redis: duplicateRedis(redis), keyspace }),
    pipeline: () => openPipeline(redis),
    exec: sendPipeline,
    heartbeat: (node, ttlMs) => heartbeat(bus, node, ttlMs),
    leave: (node) => leave(bus, node),
    acquireLeases: (input) => alone((p) => queueAcquireLeases(bus, p, input)),
    queueAcquireLeases: (pipeline, input) => queueAcquireLeases(bus, pipeline, input),
    renewLeases: (input) => alone((p) => queueRenewLeases(bus, p, input)),
    queueRenewLeases: (pipeline, input) => queueRenewLeases(bus, pipeline, input),
    releaseLeases: (input) => alone((p) => queueReleaseLeases(bus, p, input)),
    queueReleaseLeases: (pipeline, input) => queueReleaseLeases(bus, pipeline, input),
    enqueue: (messages, now) => alone((p) => queueEnqueue(bus, p, { messages, now })),
    queueEnqueue: (pipeline, messages, now) => queueEnqueue(bus, pipeline, { messages, now }),
    encodeMessage: (message, at) => encodeMessage(bus, message, at),
    enqueueMany: (messages) => alone((p) => queueEnqueueMany(bus, p, messages)),
    queueEnqueueMany: (pipeline, messages) => queueEnqueueMany(bus, pipeline, messages),
    readReady: (input) => readReady(bus, input),
    readShards: (input) => readShards(bus, input),
    claimPending: (shard, consumer) => claimPending(bus, shard, consumer),
    pendingDeliveries: (input) => pendingDeliveries(bus, input),
    commit: (input) => alone((p) => queueCommit(bus, p, input)),
    queueCommit: (pipeline, input) => queueCommit(bus, pipeline, input),
    fireTimers: (input) => fireTimers(bus, input),
    trimShards: (shards) => trimShards(bus, shards),
    trimOutbox: (group) => trimOutbox(bus, group),
    mailboxBacklog: () => mailboxBacklog(bus),
    allocatePorts: (input) => allocatePorts(bus, input),
    releasePorts: (input) => releasePorts(bus, input),
    holdLease: (input) => holdLease(bus, input),
    dropLease: (name, holder) => dropLease(bus, name, holder),
    queueEdgeDeadLetter: (pipeline, letter, o) => queueEdgeDeadLetter(bus, pipeline, { ...o, letter }),
    queueDeadLetter: (pipeline, letter) => queueDeadLetter(bus, pipeline, letter),
  };
  return bus;
}

/** Queues one operation on a pipeline of its own and sends it (not at all when it queued nothing). */
async function runAlone<T>(bus: Bus, queue: (pipeline: ChainableCommander) => Queued<T>): Promise<T> {
  const pipeline = bus.pipeline();
  const operation = queue(pipeline);
  if (operation.count === 0) return operation.read([]);
  return await runQueued(pipeline, operation);
}
