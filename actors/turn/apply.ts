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
import { contextFor, type Effects } from './context.ts';
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
  for (const [address, queue] of sorted.queues) {
    const slot = options.actors.get(address)!;
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
      const ok =
        delivered === undefined
          ? await applyOne(turn, slot, entry)
          : await applyCarefully(turn, slot, { entry, delivered });
      if (ok) handled++;
    }
  }
  return { handled, duplicatesSkipped };
}

/** Applies an entry; its effects are committed with the state that produced them. Returns whether it was handled. */
async function applyOne(turn: TurnScope, slot: ActorSlot, entry: MailboxEntry): Promise<boolean> {
  const { options, commits, now } = turn;
  const shardCommit = commits.of(slot.shard);
  const outcome = await applyEntry(turn, slot, entry);
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
  if (outcome.effects) shardCommit.flush.add(slot);
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

/** The handler an entry calls (a method or a timer) and its payload, or why there is none. */
function handlerOf(
  definition: ActorDefinition,
  entry: MailboxEntry,
): string | { handler: Handler<unknown>; payload: unknown } {
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

/** Applies one entry with retries; returns the failure reason, or whether it had effects. */
async function applyEntry(
  turn: TurnScope,
  slot: ActorSlot,
  entry: MailboxEntry,
): Promise<string | { effects: boolean }> {
  const found = handlerOf(slot.definition, entry);
  if (typeof found === 'string') return found;
  const { handler, payload } = found;
  const { options, now } = turn;
  const commit = turn.commits.of(slot.shard);
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
    const effects: Effects = { timers: new Map(), outbox: [], published: [] };
    const ctx = contextFor(slot, entry, { effects, log: options.log, now, epoch: commit.epoch });
    try {
      let next = handler(slot.state, payload, ctx);
      if (next instanceof Promise) next = await next;
      if (next !== undefined) slot.state = next;
      for (const [member, timer] of effects.timers) commit.timers.set(member, timer);
      for (const event of effects.outbox) commit.outbox.push(event);
      // Published events ride on the commit without making it a checkpoint.
      for (const event of effects.published) commit.outbox.push(event);
      return { effects: effects.timers.size > 0 || effects.outbox.length > 0 };
    } catch (caught) {
      lastError = toError(caught);
      if (caught instanceof TerminalError) break;
    }
  }
  options.log.warn({ address: slot.address, entryId: entry.id, err: lastError }, 'handler failed');
  return `handler "${entry.method}" failed: ${lastError?.message ?? 'unknown error'}`;
}
