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
import {
  dropLease,
  duplicateRedis,
  holdLease,
  type Keyspace,
  type Redis,
  runScript,
  toError,
} from '../../bus/mod.ts';
import { type OutboxItem, toItems } from './events.ts';

/** The outbox consumer group of the gateways. */
export const SINK_GROUP = 'gateway';

export type SinkHandler = (items: readonly OutboxItem[]) => Promise<void>;

export interface OutboxSinkOptions {
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  /** Run on every batch, one after another, before it is acknowledged. */
  readonly handlers: readonly SinkHandler[];
  /** This gateway's name in the leases (default `gateway-<pid>-<random>`). */
  readonly holder?: string;
  readonly leaseTtlMs?: number;
  readonly batchSize?: number;
  readonly logger?: Logger;
}

/** Waits `ms`, or less when stopped. */
const sleep = (ms: number, signal: AbortSignal) => delay(ms, undefined, { signal }).catch(() => {});

export class OutboxSink implements AsyncDisposable {
  readonly stats = { handled: 0, batches: 0, failures: 0, unreadable: 0 };
  readonly #o: Required<Omit<OutboxSinkOptions, 'logger'>>;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  readonly #loops: Promise<void>[] = [];
  readonly #reader: Redis;

  constructor(options: OutboxSinkOptions) {
    this.#o = {
      redis: options.redis,
      keyspace: options.keyspace,
      handlers: options.handlers,
      holder: options.holder ?? `gateway-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      leaseTtlMs: options.leaseTtlMs ?? 10_000,
      batchSize: options.batchSize ?? 500,
    };
    this.#log = (options.logger ?? silentLogger).child({ component: 'outbox-sink' });
    // Blocking reads get their own connection.
    this.#reader = duplicateRedis(options.redis);
    this.#reader.on('error', (err) => this.#log.debug({ err }, 'outbox sink connection error'));
  }

  get holder(): string {
    return this.#o.holder;
  }

  start(): this {
    for (let g = 0; g < this.#o.keyspace.tagGroups; g++) this.#loops.push(this.#run(g));
    return this;
  }

  async #run(group: number): Promise<void> {
    const { redis, keyspace, holder, leaseTtlMs } = this.#o;
    const lease = `sink-${group}`;
    const stream = keyspace.outbox(group);
    const signal = this.#stop.signal;
    let held = false;
    let from = '0'; // this holder's unacknowledged entries first (a takeover re-reads them)
    let lastTrim = 0;
    while (!signal.aborted) {
      try {
        const holds = await holdLease(redis, keyspace, lease, holder, leaseTtlMs);
        if (holds !== held)
          this.#log.info(
            { group, held: holds },
            holds ? 'outbox sink lease taken' : 'outbox sink lease lost',
          );
        if (!holds) {
          held = false;
          await sleep(leaseTtlMs / 3, signal);
          continue;
        }
        if (!held) {
          held = true;
          from = '0';
          await redis.xgroup('CREATE', stream, SINK_GROUP, '0', 'MKSTREAM').catch((error: unknown) => {
            if (!String(error).includes('BUSYGROUP')) throw error;
          });
        }
        // One consumer name for every holder: the lease makes it one reader at a time, and a new
        // holder finds the pending entries of the last one under that name.
        const reply = (await this.#reader.xreadgroup(
          'GROUP',
          SINK_GROUP,
          'sink',
          'COUNT',
          this.#o.batchSize,
          'BLOCK',
          from === '0' ? 1 : Math.min(1000, Math.floor(leaseTtlMs / 3)),
          'STREAMS',
          stream,
          from,
        )) as [string, [string, string[]][]][] | null;
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length === 0) {
          if (from === '0') from = '>';
        } else {
          const { items, unreadable } = toItems(group, entries);
          for (const u of unreadable)
            this.#log.error({ id: u.id, raw: u.raw.slice(0, 200) }, 'unreadable outbox entry skipped');
          this.stats.unreadable += unreadable.length;
          for (const handle of this.#o.handlers) await handle(items);
          await redis.xack(stream, SINK_GROUP, ...entries.map(([id]) => id));
          this.stats.handled += items.length;
          this.stats.batches++;
        }
        if (Date.now() - lastTrim > 5000) {
          lastTrim = Date.now();
          await runScript(redis, 'trim', [stream], ['*']);
        }
      } catch (error) {
        if (signal.aborted) break;
        this.stats.failures++;
        from = '0';
        this.#log.warn({ err: toError(error), group }, 'outbox sink batch failed; retrying');
        await sleep(500, signal);
      }
    }
    if (held) await dropLease(redis, keyspace, lease, holder).catch(() => {});
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    this.#reader.disconnect(); // ends a blocking read at once
    await Promise.all(this.#loops);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
