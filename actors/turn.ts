/**
 * One turn of a hub node: read what is waiting in the node's shards, apply it to the actors one
 * message at a time per actor in mailbox order, and commit states, acknowledgements, timers and
 * outbox events atomically per hash-tag group, fenced by each shard's lease epoch.
 *
 * Nothing is acknowledged before the state that reflects it is committed; an entry already
 * reflected in an actor's state (its id ≤ the state's last applied id) is skipped, so a
 * redelivery never applies a message twice.
 */
import {
  CONSUMER_GROUP,
  compareStreamIds,
  groupByTag,
  type Keyspace,
  type MailboxEntry,
  openPipeline,
  pendingDeliveries,
  queueDeadLetter,
  type Redis,
  rawField,
  readReady,
  readShards,
  runScript,
  shardMask,
  TIMER_METHOD,
  toError,
  tryDecode,
} from '../bus/mod.ts';
import type { ActorSlot, ActorTable } from './actor-table.ts';
import type { ActorContext, ActorDefinition, Handler, OutboxEvent } from './define.ts';
import { TerminalError } from './errors.ts';
import type { Histogram } from './histogram.ts';
import { actorLogFields, type Logger } from './logger.ts';

/**
 * An entry delivered this many times came back after nodes died with it pending (once is a
 * normal takeover): it is handled alone, with its attempts counted in Redis, and dead-lettered
 * if a node dies handling it once more.
 */
export const CAREFUL_AFTER_DELIVERIES = 3;

export interface TurnShard {
  readonly shard: number;
  readonly epoch: number;
  /** `>` for new entries; otherwise a history cursor: this node's pending entries after it. */
  readonly from: string;
}

export interface TurnOptions {
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly nodeId: string;
  readonly definitions: ReadonlyMap<string, ActorDefinition>;
  readonly actors: ActorTable;
  readonly log: Logger;
  readonly latencyMs: Histogram;
  readonly readCount: number;
  readonly maxAttempts: number;
  /** Longest time an actor's applied messages wait for their checkpoint. */
  readonly checkpointMs: number;
  /** Called after each handled message (benchmark tracing). */
  readonly onHandled?: (slot: ActorSlot, entry: MailboxEntry, now: number) => void;
}

/** What a turn reads: the node's readable shards, prepared once per ownership change. */
export interface TurnView {
  readonly shards: readonly TurnShard[];
  readonly byShard: ReadonlyMap<number, TurnShard>;
  /** Shards replaying their pending entries. */
  readonly history: readonly TurnShard[];
  /** Shards reading new entries, as a mask for read-ready.lua, and their tag groups. */
  readonly fresh: { readonly mask: string; readonly groups: readonly number[] };
}

export function turnView(keyspace: Keyspace, shards: readonly TurnShard[]): TurnView {
  const fresh = new Set(shards.filter((s) => s.from === '>').map((s) => s.shard));
  return {
    shards,
    byShard: new Map(shards.map((s) => [s.shard, s])),
    history: shards.filter((s) => s.from !== '>'),
    fresh: {
      mask: shardMask(keyspace, fresh),
      groups: [...new Set([...fresh].map((s) => keyspace.groupOf(s)))],
    },
  };
}

export interface TurnResult {
  /** Entries read (handled, skipped as duplicates or dead-lettered). */
  readonly read: number;
  readonly handled: number;
  readonly deadLettered: number;
  readonly duplicatesSkipped: number;
  /** New read position of shards read from history (`>` once the history is exhausted). */
  readonly cursors: Map<number, string>;
  /** Shards whose commit was refused: the lease is gone, drop them. */
  readonly fenced: number[];
}

interface ShardCommit {
  readonly shard: number;
  readonly epoch: number;
  /** Entries done with outside any checkpoint (dead-lettered, already persisted). */
  readonly acks: string[];
  /** Actors to checkpoint: state written, their pending entries acknowledged. */
  readonly flush: Set<ActorSlot>;
  readonly timers: Map<string, { due: number; data: string } | null>;
  readonly outbox: string[];
}

interface Effects {
  timers: Map<string, { due: number; data: string } | null>;
  outbox: string[];
}

export async function runTurn(options: TurnOptions, view: TurnView, sweep = false): Promise<TurnResult> {
  const { redis, keyspace, nodeId, definitions, actors, log } = options;
  const { shards, byShard } = view;
  // New entries: only the shards marked ready, unless this turn sweeps them all (which also finds
  // entries written without the ready signal). History: this node's pending entries after a takeover.
  const [raw1, raw2] = await Promise.all([
    readShards(redis, keyspace, nodeId, sweep ? shards : view.history, options.readCount),
    sweep ? [] : readReady(redis, keyspace, nodeId, view.fresh, options.readCount),
  ]);
  const raw = [...raw1, ...raw2];
  const now = Date.now();

  // Delivery counts matter only for entries recovered from a node that died or was fenced:
  // an entry delivered too often is likely what killed it.
  const recovering = raw.filter((r) => byShard.get(r.shard)?.from !== '>');
  const deliveries = new Map<string, number>();
  // After a takeover hundreds of shards may replay at once: ask for their counts together.
  const counts = await Promise.all(
    recovering.map((r) =>
      pendingDeliveries(redis, keyspace, r.shard, nodeId, {
        after: byShard.get(r.shard)!.from,
        count: options.readCount,
      }),
    ),
  );
  recovering.forEach((r, i) => {
    for (const [id, n] of counts[i]!) deliveries.set(`${r.shard}:${id}`, n);
  });

  const commits = new Map<number, ShardCommit>();
  const commitFor = (shard: number): ShardCommit => {
    let commit = commits.get(shard);
    if (commit === undefined) {
      commit = {
        shard,
        epoch: byShard.get(shard)!.epoch,
        acks: [],
        flush: new Set(),
        timers: new Map(),
        outbox: [],
      };
      commits.set(shard, commit);
    }
    return commit;
  };
  const deadLetters: Parameters<typeof queueDeadLetter>[2][] = [];
  let deadLettered = 0;
  /** Commits, with the dead letters gathered so far (each logged once, when written). */
  const commit = async (list: Map<number, ShardCommit>): Promise<number[]> => {
    const letters = deadLetters.splice(0);
    const refused = await commitTurn(options, list, letters, now);
    deadLettered += letters.length;
    for (const l of letters) {
      log.warn({ shard: l.shard, address: l.address, entryId: l.entryId, reason: l.reason }, 'dead-lettered');
    }
    return refused;
  };
  const queues = new Map<string, { shard: number; definition: ActorDefinition; entries: MailboxEntry[] }>();
  const cursors = new Map<number, string>();
  /** Entries that came back after nodes died with them pending, by id: their delivery count. */
  const careful = new Map<string, number>();
  const fenced = new Set<number>();
  let read = 0;

  for (const { shard, entries } of raw) {
    const commit = commitFor(shard);
    if (byShard.get(shard)!.from !== '>') cursors.set(shard, entries[entries.length - 1]!.id);
    for (const { id, fields } of entries) {
      read++;
      const decoded = tryDecode(id, fields);
      if (!decoded.ok) {
        commit.acks.push(id);
        deadLetters.push({
          entryId: id,
          shard,
          address: rawField(fields, 'a'),
          method: rawField(fields, 'm'),
          payload: rawField(fields, 'p'),
          reason: decoded.reason,
          node: nodeId,
        });
        continue;
      }
      const entry = decoded.entry;
      const delivered = deliveries.get(`${shard}:${id}`) ?? 1;
      const type = entry.address.slice(0, entry.address.indexOf('/'));
      const definition = definitions.get(type);
      if (definition === undefined) {
        commit.acks.push(id);
        deadLetters.push(
          letterOf(entry, shard, `no actor type "${type}" is registered on this cluster`, nodeId),
        );
        continue;
      }
      if (delivered >= CAREFUL_AFTER_DELIVERIES) careful.set(id, delivered);
      const queue = queues.get(entry.address);
      if (queue) queue.entries.push(entry);
      else queues.set(entry.address, { shard, definition, entries: [entry] });
    }
  }

  const missing = [...queues.entries()]
    .filter(([address]) => actors.get(address) === undefined)
    .map(([address, q]) => ({ address, shard: q.shard, definition: q.definition }));
  await actors.activate(redis, missing, now);

  let handled = 0;
  let duplicatesSkipped = 0;
  for (const [address, queue] of queues) {
    const slot = actors.get(address)!;
    const shardCommit = commitFor(queue.shard);
    slot.lastActive = now;
    for (const entry of queue.entries) {
      if (fenced.has(queue.shard)) break;
      if (compareStreamIds(entry.id, slot.lastId) <= 0) {
        duplicatesSkipped++;
        // Already in the persisted state: done with it. (Applied only in memory: it is pending
        // and will be acknowledged with the next checkpoint.)
        if (compareStreamIds(entry.id, slot.checkpointId) <= 0) shardCommit.acks.push(entry.id);
        continue;
      }
      const delivered = careful.get(entry.id);
      if (delivered !== undefined) {
        // This entry keeps coming back: handle it alone, counting attempts in Redis first, and
        // commit right after, so that a node dying now is pinned on this entry and no other.
        const attempt = `${queue.shard}:${entry.id}`;
        const attemptsKey = keyspace.attempts(keyspace.groupOf(queue.shard));
        if ((await redis.hincrby(attemptsKey, attempt, 1)) > 1) {
          deadLetters.push(
            letterOf(
              entry,
              queue.shard,
              `a hub node died while handling it (delivered ${delivered} times)`,
              nodeId,
            ),
          );
          shardCommit.acks.push(entry.id);
          slot.lastId = entry.id;
          shardCommit.flush.add(slot);
        } else {
          const outcome = await apply(slot, entry, shardCommit, options, now);
          if (typeof outcome === 'string') {
            deadLetters.push(letterOf(entry, queue.shard, outcome, nodeId));
            shardCommit.acks.push(entry.id);
            slot.lastId = entry.id;
          } else {
            handled++;
            actors.applied(slot, entry.id, now);
          }
          shardCommit.flush.add(slot);
        }
        for (const shard of await commit(new Map([[queue.shard, shardCommit]]))) fenced.add(shard);
        shardCommit.acks.length = 0;
        shardCommit.flush.clear();
        shardCommit.timers.clear();
        shardCommit.outbox.length = 0;
        await redis.hdel(attemptsKey, attempt);
        continue;
      }
      const outcome = await apply(slot, entry, shardCommit, options, now);
      if (typeof outcome === 'string') {
        deadLetters.push(letterOf(entry, queue.shard, outcome, nodeId));
        shardCommit.acks.push(entry.id);
        slot.lastId = entry.id;
        shardCommit.flush.add(slot);
        continue;
      }
      handled++;
      options.latencyMs.record(now - entry.enqueuedAt);
      options.onHandled?.(slot, entry, now);
      actors.applied(slot, entry.id, now);
      // Effects are committed with the state that produced them, at once: a replay after a
      // crash must never emit them again.
      if (outcome.effects) shardCommit.flush.add(slot);
    }
  }
  for (const slot of actors.due(now - options.checkpointMs)) {
    if (byShard.has(slot.shard)) commitFor(slot.shard).flush.add(slot);
  }

  for (const shard of fenced) commits.delete(shard);
  for (const shard of await commit(commits)) fenced.add(shard);
  for (const shard of shards) {
    if (shard.from !== '>' && !cursors.has(shard.shard)) cursors.set(shard.shard, '>');
  }
  return { read, handled, deadLettered, duplicatesSkipped, cursors, fenced: [...fenced] };
}

/**
 * Checkpoints every dirty actor of the given shards (before they are handed off). Returns the
 * shards whose commit was refused.
 */
export async function checkpointShards(
  options: TurnOptions,
  shards: readonly TurnShard[],
): Promise<number[]> {
  const commits = new Map<number, ShardCommit>();
  const byShard = new Map(shards.map((s) => [s.shard, s]));
  for (const slot of options.actors.dirtyOf(new Set(byShard.keys()))) {
    let commit = commits.get(slot.shard);
    if (commit === undefined) {
      const epoch = byShard.get(slot.shard)!.epoch;
      commit = { shard: slot.shard, epoch, acks: [], flush: new Set(), timers: new Map(), outbox: [] };
      commits.set(slot.shard, commit);
    }
    commit.flush.add(slot);
  }
  return commitTurn(options, commits, [], Date.now());
}

function letterOf(entry: MailboxEntry, shard: number, reason: string, node: string) {
  return {
    entryId: entry.id,
    shard,
    address: entry.address,
    method: entry.method,
    payload: JSON.stringify(entry.payload),
    reason,
    node,
  };
}

/** Applies one entry with retries; returns the failure reason, or whether it had effects. */
async function apply(
  slot: ActorSlot,
  entry: MailboxEntry,
  commit: ShardCommit,
  options: TurnOptions,
  now: number,
): Promise<string | { effects: boolean }> {
  const { definition } = slot;
  let handler: Handler<unknown> | undefined;
  let payload = entry.payload;
  if (entry.method === TIMER_METHOD) {
    const timer = entry.payload as { name?: unknown; data?: unknown } | null;
    const name = typeof timer?.name === 'string' ? timer.name : '';
    handler = Object.hasOwn(definition.timers ?? {}, name) ? definition.timers![name] : undefined;
    if (handler === undefined) return `actor type "${definition.type}" has no timer "${name}"`;
    payload = timer?.data;
  } else {
    handler = Object.hasOwn(definition.handlers, entry.method)
      ? definition.handlers[entry.method]
      : undefined;
    if (handler === undefined) return `actor type "${definition.type}" has no handler "${entry.method}"`;
  }

  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
    const effects: Effects = { timers: new Map(), outbox: [] };
    const ctx = contextFor(slot, entry, effects, options.log, now, commit.epoch);
    try {
      let next = handler(slot.state, payload, ctx);
      if (next instanceof Promise) next = await next;
      if (next !== undefined) slot.state = next;
      for (const [member, timer] of effects.timers) commit.timers.set(member, timer);
      for (const event of effects.outbox) commit.outbox.push(event);
      return { effects: effects.timers.size > 0 || effects.outbox.length > 0 };
    } catch (caught) {
      lastError = toError(caught);
      if (caught instanceof TerminalError) break;
    }
  }
  options.log.warn({ address: slot.address, entryId: entry.id, err: lastError }, 'handler failed');
  return `handler "${entry.method}" failed: ${lastError?.message ?? 'unknown error'}`;
}

function contextFor(
  slot: ActorSlot,
  entry: MailboxEntry,
  effects: Effects,
  log: Logger,
  now: number,
  epoch: number,
): ActorContext {
  return {
    address: slot.address,
    id: slot.id,
    messageId: entry.id,
    enqueuedAt: entry.enqueuedAt,
    now,
    epoch,
    get log() {
      return log.child(actorLogFields(slot.address, slot.id, slot.definition));
    },
    setTimer(name, delayMs, data) {
      if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name))
        throw new TerminalError(`setTimer: invalid timer name "${name}"`);
      if (!Number.isFinite(delayMs) || delayMs < 0)
        throw new TerminalError(`setTimer: delayMs must be ≥ 0, got ${delayMs}`);
      effects.timers.set(`${slot.shard}|${slot.address}|${name}`, {
        due: Math.round(now + delayMs),
        data: JSON.stringify({ name, data }),
      });
    },
    cancelTimer(name) {
      effects.timers.set(`${slot.shard}|${slot.address}|${name}`, null);
    },
    emit(event: OutboxEvent) {
      effects.outbox.push(JSON.stringify({ ...event, address: slot.address, at: now }));
    },
  };
}

/** Dead letters first, then one fenced commit per hash-tag group, in one pipeline. */
async function commitTurn(
  options: TurnOptions,
  allCommits: Map<number, ShardCommit>,
  deadLetters: readonly Parameters<typeof queueDeadLetter>[2][],
  now: number,
): Promise<number[]> {
  // A shard with nothing to write is left out: its applied entries wait, pending, for their checkpoint.
  const commits = [...allCommits.values()].filter(
    (c) => c.acks.length > 0 || c.flush.size > 0 || c.timers.size > 0 || c.outbox.length > 0,
  );
  if (commits.length === 0 && deadLetters.length === 0) return [];
  const { redis, keyspace, nodeId } = options;
  const pipeline = openPipeline(redis);
  for (const letter of deadLetters) queueDeadLetter(pipeline, keyspace, letter);
  const order = [...groupByTag(keyspace, commits).entries()];
  const flushed: { slot: ActorSlot; id: string; acked: number }[] = [];
  for (const [group, list] of order) {
    const keys: string[] = [];
    const states: string[] = [];
    const payload = list.map((c) => {
      const k = keyspace.shard(c.shard);
      keys.push(k.lease, k.state, k.mailbox);
      const acks = [...c.acks];
      for (const slot of c.flush) {
        states.push(slot.address, JSON.stringify({ id: slot.lastId, s: slot.state }));
        for (const id of slot.unacked) acks.push(id);
        flushed.push({ slot, id: slot.lastId, acked: slot.unacked.length });
      }
      const timers: string[] = [];
      const cancels: string[] = [];
      for (const [member, timer] of c.timers) {
        if (timer === null) cancels.push(member);
        else timers.push(member, String(timer.due), timer.data);
      }
      return { e: c.epoch, n: c.flush.size, a: acks, t: timers, c: cancels, o: c.outbox };
    });
    keys.push(keyspace.timers(group), keyspace.timerData(group), keyspace.outbox(group));
    runScript(pipeline, 'commit', keys, [nodeId, CONSUMER_GROUP, JSON.stringify(payload), ...states]);
  }
  const results = (await pipeline.exec()) ?? [];
  for (const [error] of results.slice(0, deadLetters.length)) if (error) throw error;
  const commitResults = results.slice(deadLetters.length);
  const fenced = new Set<number>();
  order.forEach(([, list], i) => {
    const [error, reply] = commitResults[i]!;
    if (error) throw error;
    for (const index of reply as number[]) fenced.add(list[Number(index) - 1]!.shard);
  });
  for (const f of flushed)
    if (!fenced.has(f.slot.shard)) options.actors.checkpointed(f.slot, f.id, f.acked, now);
  return [...fenced];
}
