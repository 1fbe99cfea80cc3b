/**
 * A hub node's upkeep: the periodic tasks (each rescheduled after it finishes, a failure logged
 * and retried), firing the due durable timers of the shards it holds into their mailboxes,
 * trimming acknowledged entries and passivating idle actors, and publishing its stats.
 */
import { type Bus, toError } from '../../bus/mod.ts';
import type { ActorTable } from '../actor-table.ts';
import type { Histogram, HistogramJSON } from '../histogram.ts';
import type { Logger } from '../logger.ts';
import { processUsage } from '../process-usage.ts';
import type { HeldShards } from './held-shards.ts';
import type { TurnLoop } from './turn-loop.ts';

export interface NodeStats {
  readonly node: string;
  readonly pid: number;
  readonly at: number;
  readonly shards: number;
  readonly actors: number;
  readonly read: number;
  readonly handled: number;
  readonly deadLettered: number;
  readonly duplicatesSkipped: number;
  readonly fencedCommits: number;
  readonly turns: number;
  readonly cpuMicros: number;
  readonly rssBytes: number;
  /**
   * Entries waiting in the mailboxes of the shards it holds (not yet read, or read and not yet
   * acknowledged: acknowledgements go with the next checkpoint), as of its last trim (every
   * `trimIntervalMs`, 1 s by default).
   */
  readonly backlog: number;
  readonly latencyMs: HistogramJSON;
}

export interface UpkeepOptions {
  readonly bus: Bus;
  readonly nodeId: string;
  readonly log: Logger;
  readonly held: HeldShards;
  readonly actors: ActorTable;
  readonly loop: TurnLoop;
  readonly latencyMs: Histogram;
  /** Actors idle this long are passivated at each trim. */
  readonly idleMs: number;
  /** The node's stop: no task runs or is rescheduled once it is aborted. */
  readonly signal: AbortSignal;
}

export class Upkeep {
  readonly #o: UpkeepOptions;
  readonly #timeouts = new Set<ReturnType<typeof setTimeout>>();
  /** The held shards' backlog at the last trim (read from the XINFO the trim script reads anyway). */
  #backlog = 0;

  constructor(options: UpkeepOptions) {
    this.#o = options;
  }

  /** Runs `fn` every `ms` (after each run ends) until the node stops; a failure is logged. */
  every(ms: number, fn: () => Promise<void>): void {
    const { signal, log } = this.#o;
    const run = async () => {
      if (signal.aborted) return;
      try {
        await fn();
      } catch (error) {
        log.warn({ err: toError(error) }, 'periodic task failed; retrying');
      }
      if (!signal.aborted) this.#timeouts.add(setTimeout(run, ms));
    };
    this.#timeouts.add(setTimeout(run, ms));
  }

  /** Cancels every scheduled task (a run in progress finishes). */
  cancel(): void {
    for (const t of this.#timeouts) clearTimeout(t);
  }

  /** Moves the due timers of the readable shards into their mailboxes; wakes the loop if any fired. */
  async fireTimers(): Promise<void> {
    const { bus, held, loop } = this.#o;
    const readable = new Set(held.readable().map((o) => o.shard));
    if (readable.size === 0) return;
    if ((await bus.fireTimers({ shards: readable, limit: 2000 })) > 0) loop.wake();
  }

  /**
   * Trims what every group has acknowledged from the held mailboxes, noting their backlog;
   * passivates idle actors.
   */
  async trim(): Promise<void> {
    const { bus, held, actors, idleMs } = this.#o;
    const shards = held.all().map((o) => o.shard);
    if (shards.length === 0) {
      this.#backlog = 0;
      return;
    }
    this.#backlog = (await bus.trimShards(shards)).backlog;
    actors.passivate(Date.now() - idleMs);
  }

  stats(): NodeStats {
    return nodeStats(this.#o, this.#backlog);
  }

  async publishStats(): Promise<void> {
    const { bus, nodeId } = this.#o;
    await bus.redis.hset(bus.keyspace.nodeStats, nodeId, JSON.stringify(this.stats()));
  }
}

function nodeStats(o: UpkeepOptions, backlog: number): NodeStats {
  const usage = processUsage();
  return {
    node: o.nodeId,
    pid: process.pid,
    at: Date.now(),
    shards: o.held.size,
    actors: o.actors.size,
    ...o.loop.counters,
    cpuMicros: usage.cpuMicros,
    rssBytes: usage.rssBytes,
    backlog,
    latencyMs: o.latencyMs.toJSON(),
  };
}
