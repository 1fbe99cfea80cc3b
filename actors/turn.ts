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
  pendingDeliveries,
  queueDeadLetter,
  type Redis,
  rawField,
  readShards,
  runScript,
  TIMER_METHOD,
  toError,
  tryDecode,
} from '../bus/mod.ts';
import type { ActorSlot, ActorTable } from './actor-table.ts';
import type { ActorContext, ActorDefinition, Handler, OutboxEvent } from './define.ts';
import { TerminalError } from './errors.ts';
import type { Histogram } from './histogram.ts';
import type { Logger } from './logger.ts';

export interface TurnShard {
  readonly shard: number;
  readonly epoch: number;
  readonly from: '>' | '0';
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
  readonly maxDeliveries: number;
  /** Called after each handled message (benchmark tracing). */
  readonly onHandled?: (slot: ActorSlot, entry: MailboxEntry, now: number) => void;
}

export interface TurnResult {
  /** Entries read (handled, skipped as duplicates or dead-lettered). */
  readonly read: number;
  readonly handled: number;
  readonly deadLettered: number;
  readonly duplicatesSkipped: number;
  /** Recovering shards whose pending entries are all done: read new entries from now on. */
  readonly recovered: number[];
  /** Shards whose commit was refused: the lease is gone, drop them. */
  readonly fenced: number[];
}

interface ShardCommit {
  readonly shard: number;
  readonly epoch: number;
  readonly acks: string[];
  readonly dirty: Set<ActorSlot>;
  readonly timers: Map<string, { due: number; data: string } | null>;
  readonly outbox: string[];
}

interface Effects {
  timers: Map<string, { due: number; data: string } | null>;
  outbox: string[];
}

export async function runTurn(options: TurnOptions, shards: readonly TurnShard[]): Promise<TurnResult> {
  const { redis, keyspace, nodeId, definitions, actors, log } = options;
  const byShard = new Map(shards.map((s) => [s.shard, s]));
  const raw = await readShards(redis, keyspace, nodeId, shards, options.readCount);
  const now = Date.now();

  const returned = new Set(raw.map((r) => r.shard));
  const recovered = shards.filter((s) => s.from === '0' && !returned.has(s.shard)).map((s) => s.shard);

  // Delivery counts matter only for entries recovered from a node that died or was fenced:
  // an entry delivered too often is likely what killed it.
  const recovering = raw.filter((r) => byShard.get(r.shard)?.from === '0');
  const deliveries = new Map<string, number>();
  for (const r of recovering) {
    for (const [id, n] of await pendingDeliveries(redis, keyspace, r.shard, nodeId, options.readCount)) {
      deliveries.set(`${r.shard}:${id}`, n);
    }
  }

  const commits = new Map<number, ShardCommit>();
  const deadLetters: Parameters<typeof queueDeadLetter>[2][] = [];
  const queues = new Map<string, { shard: number; definition: ActorDefinition; entries: MailboxEntry[] }>();
  let read = 0;

  for (const { shard, entries } of raw) {
    const commit: ShardCommit = {
      shard,
      epoch: byShard.get(shard)!.epoch,
      acks: [],
      dirty: new Set(),
      timers: new Map(),
      outbox: [],
    };
    commits.set(shard, commit);
    for (const { id, fields } of entries) {
      read++;
      commit.acks.push(id);
      const decoded = tryDecode(id, fields);
      if (!decoded.ok) {
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
      if (delivered > options.maxDeliveries || definition === undefined) {
        const reason =
          definition === undefined
            ? `no actor type "${type}" is registered on this cluster`
            : `delivered ${delivered} times without being committed (max ${options.maxDeliveries}): a hub node crashed or was fenced while handling it`;
        deadLetters.push(letterOf(entry, shard, reason, nodeId));
        continue;
      }
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
    const commit = commits.get(queue.shard)!;
    slot.lastActive = now;
    for (const entry of queue.entries) {
      if (compareStreamIds(entry.id, slot.lastId) <= 0) {
        duplicatesSkipped++;
        continue;
      }
      const failure = await apply(slot, entry, commit, options, now);
      if (failure !== undefined) deadLetters.push(letterOf(entry, queue.shard, failure, nodeId));
      else {
        handled++;
        options.latencyMs.record(now - entry.enqueuedAt);
        options.onHandled?.(slot, entry, now);
      }
      slot.lastId = entry.id;
      commit.dirty.add(slot);
    }
  }

  const fenced = await commitTurn(options, commits, deadLetters);
  if (deadLetters.length > 0) {
    for (const letter of deadLetters) {
      log.warn(
        { shard: letter.shard, address: letter.address, entryId: letter.entryId, reason: letter.reason },
        'dead-lettered',
      );
    }
  }
  return { read, handled, deadLettered: deadLetters.length, duplicatesSkipped, recovered, fenced };
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

/** Applies one entry with retries; returns the failure reason, or undefined on success. */
async function apply(
  slot: ActorSlot,
  entry: MailboxEntry,
  commit: ShardCommit,
  options: TurnOptions,
  now: number,
): Promise<string | undefined> {
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
    const ctx = contextFor(slot, entry, effects, options.log, now);
    try {
      let next = handler(slot.state, payload, ctx);
      if (next instanceof Promise) next = await next;
      if (next !== undefined) slot.state = next;
      for (const [member, timer] of effects.timers) commit.timers.set(member, timer);
      for (const event of effects.outbox) commit.outbox.push(event);
      return undefined;
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
): ActorContext {
  return {
    address: slot.address,
    id: slot.id,
    messageId: entry.id,
    enqueuedAt: entry.enqueuedAt,
    now,
    get log() {
      return log.child({ address: slot.address });
    },
    setTimer(name, delayMs, data) {
      if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name))
        throw new TerminalError(`setTimer: invalid timer name "${name}"`);
      if (!Number.isFinite(delayMs) || delayMs < 0)
        throw new TerminalError(`setTimer: delayMs must be ≥ 0, got ${delayMs}`);
      effects.timers.set(`${slot.address}|${name}`, {
        due: Math.round(now + delayMs),
        data: JSON.stringify({ name, data }),
      });
    },
    cancelTimer(name) {
      effects.timers.set(`${slot.address}|${name}`, null);
    },
    emit(event: OutboxEvent) {
      effects.outbox.push(JSON.stringify({ ...event, address: slot.address, at: now }));
    },
  };
}

/** Dead letters first, then one fenced commit per hash-tag group, in one pipeline. */
async function commitTurn(
  options: TurnOptions,
  commits: Map<number, ShardCommit>,
  deadLetters: readonly Parameters<typeof queueDeadLetter>[2][],
): Promise<number[]> {
  if (commits.size === 0) return [];
  const { redis, keyspace, nodeId } = options;
  const pipeline = redis.pipeline();
  for (const letter of deadLetters) queueDeadLetter(pipeline, keyspace, letter);
  const order = [...groupByTag(keyspace, commits.values()).entries()];
  for (const [group, list] of order) {
    const keys: string[] = [];
    const states: string[] = [];
    const payload = list.map((c) => {
      const k = keyspace.shard(c.shard);
      keys.push(k.lease, k.state, k.mailbox, k.timers, k.timerData);
      for (const slot of c.dirty)
        states.push(slot.address, JSON.stringify({ id: slot.lastId, s: slot.state }));
      const timers: string[] = [];
      const cancels: string[] = [];
      for (const [member, timer] of c.timers) {
        if (timer === null) cancels.push(member);
        else timers.push(member, String(timer.due), timer.data);
      }
      return { e: c.epoch, n: c.dirty.size, a: c.acks, t: timers, c: cancels, o: c.outbox };
    });
    keys.push(keyspace.outbox(group));
    runScript(pipeline, 'commit', keys, [nodeId, CONSUMER_GROUP, JSON.stringify(payload), ...states]);
  }
  const results = (await pipeline.exec()) ?? [];
  const commitResults = results.slice(deadLetters.length);
  const fenced: number[] = [];
  order.forEach(([, list], i) => {
    const [error, reply] = commitResults[i]!;
    if (error) throw error;
    for (const index of reply as number[]) fenced.push(list[Number(index) - 1]!.shard);
  });
  return fenced;
}
