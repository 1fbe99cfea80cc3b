/**
 * The gateway's outbox sink: reads every outbox event once for the whole cluster and hands each
 * batch to the gateway's handlers in stream order — record alarms and tunnel states in the
 * database, queue fleet events for the web backend — then acknowledges it. One gateway at a time
 * reads a tag group's outbox (a named lease `sink-<group>`, so events of one edge are handled in
 * order); the others stand by and take over within the lease's time to live. Handlers are
 * idempotent: a batch handled but not acknowledged (the gateway died) is handled again.
 * Entries every outbox consumer has finished with are trimmed.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { type Logger, silentLogger } from '../../actors/mod.ts';
import { type Bus, type Redis, sinkLease, toError, unlessDropped } from '../../bus/mod.ts';
import { type OutboxItem, toItems } from './events.ts';

/** The outbox consumer group of the gateways. */
export const SINK_GROUP = 'gateway';

export type SinkHandler = (items: readonly OutboxItem[]) => Promise<void>;

export interface OutboxSinkOptions {
  readonly bus: Bus;
  /** Run on every batch, one after another, before it is acknowledged. */
  readonly handlers: readonly SinkHandler[];
  /** This gateway's name in the leases (default `gateway-<pid>-<random>`). */
  readonly holder?: string;
  readonly leaseTtlMs?: number;
  readonly batchSize?: number;
  /**
   * Event types no handler reads (the wall screens' `edge.tile`, in the outbox only from nodes
   * before decision 056, which moved tiles to the live streams): their entries are acknowledged
   * with their batch without being parsed or handed to the handlers.
   */
  readonly skipTypes?: ReadonlySet<string>;
  readonly logger?: Logger;
}

/** Waits `ms`, or less when stopped. */
const sleep = (ms: number, signal: AbortSignal) => delay(ms, undefined, { signal }).catch(() => {});

export class OutboxSink implements AsyncDisposable {
  readonly stats = { handled: 0, batches: 0, failures: 0, unreadable: 0, skipped: 0 };
  readonly #o: Required<Omit<OutboxSinkOptions, 'logger'>>;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  readonly #loops: Promise<void>[] = [];
  readonly #reader: Redis;

  constructor(options: OutboxSinkOptions) {
    this.#o = {
      bus: options.bus,
      handlers: options.handlers,
      holder: options.holder ?? `gateway-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      leaseTtlMs: options.leaseTtlMs ?? 10_000,
      batchSize: options.batchSize ?? 500,
      skipTypes: options.skipTypes ?? new Set(),
    };
    this.#log = (options.logger ?? silentLogger).child({ component: 'outbox-sink' });
    // Blocking reads get their own connection.
    this.#reader = options.bus.duplicate().redis;
    this.#reader.on('error', (err) => this.#log.debug({ err }, 'outbox sink connection error'));
  }

  get holder(): string {
    return this.#o.holder;
  }

  start(): this {
    const sink: SinkContext = {
      o: this.#o,
      log: this.#log,
      reader: this.#reader,
      stats: this.stats,
      signal: this.#stop.signal,
    };
    for (let g = 0; g < this.#o.bus.keyspace.tagGroups; g++) this.#loops.push(runGroup(sink, g));
    return this;
  }

  /**
   * Stops the loops, then closes the reading connection. Not the other way round: on a Redis
   * Cluster, a read cut off by disconnect() could be retried by ioredis against a cluster it can no
   * longer reach and never settle (a gateway's stop hung so, 1 run in ~8 of outbox.test on the
   * cluster pass). A blocking read lasts at most a second, so the loops end within about that.
   */
  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#loops);
    this.#reader.disconnect();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** What a tag group's loop works with: the sink's options, log, reading connection and stats. */
interface SinkContext {
  readonly o: Required<Omit<OutboxSinkOptions, 'logger'>>;
  readonly log: Logger;
  readonly reader: Redis;
  readonly stats: OutboxSink['stats'];
  readonly signal: AbortSignal;
}

/** Where a tag group's loop stands: whether it holds the lease, where it reads from, last trim. */
interface GroupState {
  readonly group: number;
  readonly stream: string;
  held: boolean;
  /** `0`: this holder's unacknowledged entries first (a takeover re-reads them); then `>`. */
  from: string;
  lastTrim: number;
}

/** One tag group's outbox, while the sink runs: lease, read, handle, acknowledge, trim. */
async function runGroup(sink: SinkContext, group: number): Promise<void> {
  const { bus, holder, leaseTtlMs } = sink.o;
  const { signal } = sink;
  const lease = sinkLease(group);
  const state: GroupState = {
    group,
    stream: bus.keyspace.outbox(group),
    held: false,
    from: '0',
    lastTrim: 0,
  };
  while (!signal.aborted) {
    try {
      if (!(await takeLease(sink, state, lease))) {
        await sleep(leaseTtlMs / 3, signal);
        continue;
      }
      await handleBatch(sink, state);
      if (Date.now() - state.lastTrim > 5000) {
        state.lastTrim = Date.now();
        await bus.trimOutbox(group);
      }
    } catch (error) {
      if (signal.aborted) break;
      sink.stats.failures++;
      state.from = '0';
      sink.log.warn({ err: toError(error), group }, 'outbox sink batch failed; retrying');
      await sleep(500, signal);
    }
  }
  if (state.held) await bus.dropLease(lease, holder).catch(() => false);
}

/** Holds (or takes) the group's lease; a new holder reads its pending entries first. */
async function takeLease(sink: SinkContext, state: GroupState, lease: string): Promise<boolean> {
  const { bus, holder, leaseTtlMs } = sink.o;
  const holds = await bus.holdLease({ name: lease, holder, ttlMs: leaseTtlMs });
  if (holds !== state.held)
    sink.log.info(
      { group: state.group, held: holds },
      holds ? 'outbox sink lease taken' : 'outbox sink lease lost',
    );
  if (!holds) {
    state.held = false;
    return false;
  }
  if (!state.held) {
    state.held = true;
    state.from = '0';
    await bus.redis.xgroup('CREATE', state.stream, SINK_GROUP, '0', 'MKSTREAM').catch((error: unknown) => {
      if (!String(error).includes('BUSYGROUP')) throw error;
    });
  }
  return true;
}

/** Reads a batch, runs every handler on it in order, then acknowledges it. */
async function handleBatch(sink: SinkContext, state: GroupState): Promise<void> {
  const { bus, handlers, batchSize, leaseTtlMs } = sink.o;
  // One consumer name for every holder: the lease makes it one reader at a time, and a new
  // holder finds the pending entries of the last one under that name.
  const reply = await unlessDropped(sink.reader, () =>
    sink.reader.xreadgroup(
      'GROUP',
      SINK_GROUP,
      'sink',
      'COUNT',
      batchSize,
      'BLOCK',
      state.from === '0' ? 1 : Math.min(1000, Math.floor(leaseTtlMs / 3)),
      'STREAMS',
      state.stream,
      state.from,
    ),
  );
  if (reply === undefined) {
    // The read may have run with its reply lost, its entries now pending under our name, and been
    // sent again by ioredis: read the pending entries, in order, instead of this reply.
    state.from = '0';
    return;
  }
  const entries = (reply as [string, [string, string[]][]][] | null)?.[0]?.[1] ?? [];
  if (entries.length === 0) {
    if (state.from === '0') state.from = '>';
    return;
  }
  const { items, unreadable, skipped } = toItems(state.group, entries, sink.o.skipTypes);
  for (const u of unreadable)
    sink.log.error({ id: u.id, raw: u.raw.slice(0, 200) }, 'unreadable outbox entry skipped');
  sink.stats.unreadable += unreadable.length;
  for (const handle of handlers) await handle(items);
  await bus.redis.xack(state.stream, SINK_GROUP, ...entries.map(([id]) => id));
  sink.stats.handled += items.length;
  sink.stats.skipped += skipped;
  sink.stats.batches++;
}
