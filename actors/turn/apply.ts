/**
 * The apply step of a turn: each actor's entries in stream order, one at a time. An entry at or
 * below the actor's last applied id is skipped (a redelivery is never applied twice); a failing
 * handler is retried, then its message dead-lettered; an entry that keeps coming back after
 * nodes died with it is handled alone and committed at once.
 */
import { compareStreamIds, type MailboxEntry, TIMER_METHOD, toError } from '../../bus/mod.ts';
import type { ActorSlot } from '../actor-table.ts';
import type { ActorDefinition, Handler } from '../define.ts';
import { TerminalError } from '../errors.ts';
import { letterOf, type TurnScope } from './commit.ts';
import { HandlerContext, needsCheckpoint } from './context.ts';
import type { SortedEntries } from './read.ts';

export interface Applied {
  readonly handled: number;
  readonly duplicatesSkipped: number;
}

/** Applies every actor's queue of this turn; stops a shard's queues once its commit is fenced. */
export async function applyQueues(turn: TurnScope, sorted: SortedEntries): Promise<Applied> {
  const { options, commits, now } = turn;
  let handled = 0;
  let duplicatesSkipped = 0;
  // By value, not by [key, value]: no pair array per actor a turn.
  for (const queue of sorted.queues.values()) {
    const slot = options.actors.get(queue.address)!;
    const shardCommit = commits.of(queue.shard);
    slot.lastActive = now;
    for (const entry of queue.entries) {
      if (commits.fenced.has(queue.shard)) break;
      if (compareStreamIds(entry.id, slot.lastId) <= 0) {
        duplicatesSkipped++;
        // Already in the persisted state: done with it. (Applied only in memory: it is pending
        // and will be acknowledged with the next checkpoint.)
        if (compareStreamIds(entry.id, slot.checkpointId) <= 0) shardCommit.acks.push(entry.id);
        continue;
      }
      const delivered = sorted.careful.get(entry.id);
      // A synchronous handler is applied without a promise: thousands of messages a second
      // each saved two promises and their microtask hops.
      let ok =
        delivered === undefined
          ? applyOne(turn, slot, entry)
          : applyCarefully(turn, slot, { entry, delivered });
      if (ok instanceof Promise) ok = await ok;
      if (ok) handled++;
    }
  }
  return { handled, duplicatesSkipped };
}

/** A handler call's result: why it failed (for its dead letter), or whether its effects need a checkpoint. */
type Outcome = string | boolean;

/** Applies an entry; its effects are committed with the state that produced them. Returns whether it was handled. */
function applyOne(turn: TurnScope, slot: ActorSlot, entry: MailboxEntry): boolean | Promise<boolean> {
  const outcome = applyEntry(turn, slot, entry);
  return outcome instanceof Promise
    ? outcome.then((o) => applied(turn, slot, entry, o))
    : applied(turn, slot, entry, outcome);
}

/** Records an applied entry (or its dead letter). */
function applied(turn: TurnScope, slot: ActorSlot, entry: MailboxEntry, outcome: Outcome): boolean {
  const { options, commits, now } = turn;
  const shardCommit = commits.of(slot.shard);
  if (typeof outcome === 'string') {
    commits.deadLetter(letterOf({ entry, shard: slot.shard, reason: outcome, node: options.nodeId }));
    slot.lastId = entry.id;
    shardCommit.flush.add(slot);
    return false;
  }
  options.latencyMs.record(now - entry.enqueuedAt);
  options.onHandled?.({ address: slot.address, shard: slot.shard, entryId: entry.id, handledAt: now });
  options.actors.applied(slot, entry.id, now);
  // Effects are committed with the state that produced them, at once: a replay after a
  // crash must never emit them again.
  if (outcome) shardCommit.flush.add(slot);
  return true;
}

/**
 * This entry keeps coming back: handle it alone, counting attempts in Redis first, and commit
 * right after, so that a node dying now is pinned on this entry and no other. Returns whether it
 * was handled.
 */
async function applyCarefully(
  turn: TurnScope,
  slot: ActorSlot,
  careful: { readonly entry: MailboxEntry; readonly delivered: number },
): Promise<boolean> {
  const { options, commits, now } = turn;
  const { bus, nodeId } = options;
  const { redis, keyspace } = bus;
  const { entry, delivered } = careful;
  const { shard } = slot;
  const attempt = `${shard}:${entry.id}`;
  const attemptsKey = keyspace.attempts(keyspace.groupOf(shard));
  let handled = false;
  if ((await redis.hincrby(attemptsKey, attempt, 1)) > 1) {
    const reason = `a hub node died while handling it (delivered ${delivered} times)`;
    commits.deadLetter(letterOf({ entry, shard, reason, node: nodeId }));
    slot.lastId = entry.id;
  } else {
    const outcome = await applyEntry(turn, slot, entry);
    if (typeof outcome === 'string') {
      commits.deadLetter(letterOf({ entry, shard, reason: outcome, node: nodeId }));
      slot.lastId = entry.id;
    } else {
      handled = true;
      options.actors.applied(slot, entry.id, now);
    }
  }
  commits.of(shard).flush.add(slot);
  await commits.commitShard(shard);
  await redis.hdel(attemptsKey, attempt);
  return handled;
}

/** The handler an entry calls (a method or a timer) and its payload. */
interface Call {
  readonly handler: Handler<unknown>;
  readonly payload: unknown;
}

/** The handler an entry calls (a method or a timer) and its payload, or why there is none. */
function handlerOf(definition: ActorDefinition, entry: MailboxEntry): string | Call {
  if (entry.method === TIMER_METHOD) {
    const timer = entry.payload as { name?: unknown; data?: unknown } | null;
    const name = typeof timer?.name === 'string' ? timer.name : '';
    const handler = Object.hasOwn(definition.timers ?? {}, name) ? definition.timers![name] : undefined;
    if (handler === undefined) return `actor type "${definition.type}" has no timer "${name}"`;
    return { handler, payload: timer?.data };
  }
  const handler = Object.hasOwn(definition.handlers, entry.method)
    ? definition.handlers[entry.method]
    : undefined;
  if (handler === undefined) return `actor type "${definition.type}" has no handler "${entry.method}"`;
  return { handler, payload: entry.payload };
}

/**
 * Applies one entry with retries; returns the failure reason, or whether it had effects. A
 * promise only when the handler returned one.
 */
function applyEntry(turn: TurnScope, slot: ActorSlot, entry: MailboxEntry): Outcome | Promise<Outcome> {
  const found = handlerOf(slot.definition, entry);
  if (typeof found === 'string') return found;
  return attempt(turn, slot, entry, { call: found, from: 1, lastError: undefined });
}

/** Attempts `from`…maxAttempts of a handler call, synchronously while the handler answers so. */
function attempt(
  turn: TurnScope,
  slot: ActorSlot,
  entry: MailboxEntry,
  o: { readonly call: Call; readonly from: number; readonly lastError: Error | undefined },
): Outcome | Promise<Outcome> {
  const { options, now } = turn;
  const epoch = turn.commits.of(slot.shard).epoch;
  let lastError = o.lastError;
  for (let n = o.from; n <= options.maxAttempts; n++) {
    const ctx = new HandlerContext(slot, entry, { log: options.log, now, epoch });
    let next: unknown;
    try {
      next = o.call.handler(slot.state, o.call.payload, ctx);
    } catch (caught) {
      lastError = toError(caught);
      if (caught instanceof TerminalError) break;
      continue;
    }
    if (next instanceof Promise) {
      return next.then(
        (value) => settle(turn, slot, ctx, value),
        (caught) => {
          const error = toError(caught);
          if (caught instanceof TerminalError) return failed(turn, slot, entry, error);
          return attempt(turn, slot, entry, { call: o.call, from: n + 1, lastError: error });
        },
      );
    }
    return settle(turn, slot, ctx, next);
  }
  return failed(turn, slot, entry, lastError);
}

/** A call that succeeded: its state kept, its effects added to the shard's commit. */
function settle(turn: TurnScope, slot: ActorSlot, ctx: HandlerContext, next: unknown): Outcome {
  if (next !== undefined) slot.state = next;
  const commit = turn.commits.of(slot.shard);
  const { timers, outbox, published } = ctx.effects;
  if (timers !== undefined) for (const [member, timer] of timers) commit.timers.set(member, timer);
  if (outbox !== undefined) for (const event of outbox) commit.outbox.push(event);
  // Published events ride on the commit (to the live stream) without making it a checkpoint.
  if (published !== undefined) for (const event of published) commit.published.push(event);
  return needsCheckpoint(ctx.effects);
}

/** A call that failed every attempt (or terminally): the reason its entry is dead-lettered for. */
function failed(turn: TurnScope, slot: ActorSlot, entry: MailboxEntry, lastError: Error | undefined): string {
  turn.options.log.warn({ address: slot.address, entryId: entry.id, err: lastError }, 'handler failed');
  return `handler "${entry.method}" failed: ${lastError?.message ?? 'unknown error'}`;
}
