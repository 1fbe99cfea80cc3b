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
import type { Redis } from './redis.ts';
import type { Granted, MembershipView, RawShardEntries } from './replies.ts';
import { type FireTimers, fireTimers, trimOutbox, trimShards } from './upkeep.ts';

export interface BusOptions {
  /** A connection from connectRedis() (the bus scripts are defined on it). */
  readonly redis: Redis;
  readonly keyspace: Keyspace;
}

export class Bus {
  readonly redis: Redis;
  readonly keyspace: Keyspace;

  constructor(options: BusOptions) {
    this.redis = options.redis;
    this.keyspace = options.keyspace;
  }

  /** A pipeline that works the same on one server and on a Redis Cluster (pipeline.ts). */
  pipeline(): ChainableCommander {
    return openPipeline(this.redis);
  }

  /** Sends a pipeline; every reply, errors included, for `Queued.read`. */
  exec(pipeline: ChainableCommander): Promise<PipelineReply[]> {
    return sendPipeline(pipeline);
  }

  /** heartbeat.lua: records `node` alive for `ttlMs` (Redis clock); the live members then. */
  heartbeat(node: string, ttlMs: number): Promise<MembershipView> {
    return heartbeat(this, node, ttlMs);
  }

  /** heartbeat.lua: takes `node` out of the members at once. */
  leave(node: string): Promise<void> {
    return leave(this, node);
  }

  /** acquire.lua: takes the shards' leases that are free, expired or the node's; the granted ones. */
  acquireLeases(input: AcquireLeases): Promise<Granted[]> {
    return this.#run((p) => this.queueAcquireLeases(p, input));
  }

  queueAcquireLeases(pipeline: ChainableCommander, input: AcquireLeases): Queued<Granted[]> {
    return queueAcquireLeases(this, pipeline, input);
  }

  /** renew.lua: extends the held leases; the shards whose lease was lost. */
  renewLeases(input: RenewLeases): Promise<number[]> {
    return this.#run((p) => this.queueRenewLeases(p, input));
  }

  queueRenewLeases(pipeline: ChainableCommander, input: RenewLeases): Queued<number[]> {
    return queueRenewLeases(this, pipeline, input);
  }

  /** release.lua: hands held leases back; how many were released. */
  releaseLeases(input: ReleaseLeases): Promise<number> {
    return this.#run((p) => this.queueReleaseLeases(p, input));
  }

  queueReleaseLeases(pipeline: ChainableCommander, input: ReleaseLeases): Queued<number> {
    return queueReleaseLeases(this, pipeline, input);
  }

  /** enqueue.lua per message, in one round trip: their entry ids once Redis holds them. */
  enqueue(messages: readonly MailboxMessage[], now?: number): Promise<string[]> {
    return this.#run((p) => this.queueEnqueue(p, messages, now));
  }

  queueEnqueue(
    pipeline: ChainableCommander,
    messages: readonly MailboxMessage[],
    now?: number,
  ): Queued<string[]> {
    return queueEnqueue(this, pipeline, messages, now);
  }

  /** A message encoded for `enqueueMany`; throws InvalidMessageError for what no actor could take. */
  encodeMessage(message: MailboxMessage, at: number): EncodedMessage {
    return encodeMessage(this, message, at);
  }

  /** enqueue-many.lua per tag group: the entry ids in the order of `messages`. */
  enqueueMany(messages: readonly EncodedMessage[]): Promise<string[]> {
    return this.#run((p) => this.queueEnqueueMany(p, messages));
  }

  queueEnqueueMany(pipeline: ChainableCommander, messages: readonly EncodedMessage[]): Queued<string[]> {
    return queueEnqueueMany(this, pipeline, messages);
  }

  /** read-ready.lua per tag group: new entries of the ready shards the node may read (fenced). */
  readReady(input: ReadReady): Promise<RawShardEntries[]> {
    return readReady(this, input);
  }

  /** read-shards.lua per tag group: new (fenced) or pending entries of the given shards. */
  readShards(input: ReadShards): Promise<RawShardEntries[]> {
    return readShards(this, input);
  }

  /** Moves a shard's pending entries to `consumer` (after a takeover); how many. */
  claimPending(shard: number, consumer: string): Promise<number> {
    return claimPending(this, shard, consumer);
  }

  /** Delivery counts of a consumer's pending entries of a shard. */
  pendingDeliveries(input: PendingDeliveries): Promise<Map<string, number>> {
    return pendingDeliveries(this, input);
  }

  /** commit.lua per tag group: writes a turn, fenced per shard; the shards refused. */
  commit(input: Commit): Promise<number[]> {
    return this.#run((p) => this.queueCommit(p, input));
  }

  queueCommit(pipeline: ChainableCommander, input: Commit): Queued<number[]> {
    return queueCommit(this, pipeline, input);
  }

  /** fire-timers.lua per tag group: due timers of the held shards into their mailboxes; how many. */
  fireTimers(input: FireTimers): Promise<number> {
    return fireTimers(this, input);
  }

  /** trim.lua per tag group: drops mailbox entries every consumer is done with; how many. */
  trimShards(shards: Iterable<number>): Promise<number> {
    return trimShards(this, shards);
  }

  /** trim.lua: drops a tag group's outbox entries all its consumer groups are done with; how many. */
  trimOutbox(group: number): Promise<number> {
    return trimOutbox(this, group);
  }

  /** ports-allocate.lua: ports and claims, all or none (PortsExhaustedError, ClaimTakenError). */
  allocatePorts(input: AllocatePorts): Promise<number[]> {
    return allocatePorts(this, input);
  }

  /** ports-release.lua: gives back what the owner holds among those named; ports released. */
  releasePorts(input: ReleasePorts): Promise<number> {
    return releasePorts(this, input);
  }

  /** lease.lua `hold`: takes or extends a named lease; true when held. */
  holdLease(input: HoldLease): Promise<boolean> {
    return holdLease(this, input);
  }

  /** lease.lua `drop`: gives a named lease up if `holder` has it. */
  dropLease(name: string, holder: string): Promise<boolean> {
    return dropLease(this, name, holder);
  }

  /** dead-letter.lua: a device message's dead letter within its edge's budget; reads whether stored. */
  queueEdgeDeadLetter(
    pipeline: ChainableCommander,
    letter: DeadLetterInput & { readonly code: string },
    options: EdgeDeadLetterOptions,
  ): Queued<boolean> {
    return queueEdgeDeadLetter(this, pipeline, letter, options);
  }

  /** XADD of a dead letter to the capped stream (no script); reads its id. */
  queueDeadLetter(pipeline: ChainableCommander, letter: DeadLetterInput): Queued<string> {
    return queueDeadLetter(this, pipeline, letter);
  }

  /** Queues one operation on a pipeline of its own and sends it (not at all when it queued nothing). */
  async #run<T>(queue: (pipeline: ChainableCommander) => Queued<T>): Promise<T> {
    const pipeline = this.pipeline();
    const operation = queue(pipeline);
    if (operation.count === 0) return operation.read([]);
    return await runQueued(pipeline, operation);
  }
}

/** The bus over `redis` (from connectRedis) and `keyspace`. */
export function openBus(options: BusOptions): Bus {
  return new Bus(options);
}
