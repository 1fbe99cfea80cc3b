/**
 * A hub node's turn loop: one turn at a time over the shards it holds, at most every
 * `turnIntervalMs` (backing off to 20 ms when idle), every shard swept each `sweepIntervalMs`.
 * A fenced commit drops its shard; a failed turn forgets what it touched and replays the
 * shards' pending entries. Turns are bounded: one that ran past `turnBudgetMs` makes the next
 * read fewer entries per shard (read-budget.ts), so a backlog never makes a turn outlast the lease.
 */
import { toError } from '../../bus/mod.ts';
import type { Logger } from '../logger.ts';
import { runTurn, type TurnOptions, type TurnResult } from '../turn/mod.ts';
import type { HeldShards, Owned } from './held-shards.ts';
import { nextReadCount } from './read-budget.ts';

export interface TurnCounters {
  read: number;
  handled: number;
  deadLettered: number;
  duplicatesSkipped: number;
  fencedCommits: number;
  turns: number;
}

export interface TurnLoopOptions {
  readonly held: HeldShards;
  readonly turn: TurnOptions;
  readonly log: Logger;
  readonly turnIntervalMs: number;
  readonly sweepIntervalMs: number;
  /** How long a turn should take at most (a quarter of the lease): past it the next reads less. */
  readonly turnBudgetMs: number;
  /** The node's stop: the loop ends after the turn in flight. */
  readonly signal: AbortSignal;
}

export class TurnLoop {
  readonly counters: TurnCounters = zeroCounters();
  readonly #o: TurnLoopOptions;
  #done: Promise<void> | undefined;
  #turn: Promise<unknown> = Promise.resolve();
  readonly #pause = new Pause();
  #nextSweep = 0;
  #idleMs = 1;
  /** Entries read per shard by the next turn: the node's readCount, less while turns run long. */
  #readCount: number;

  constructor(options: TurnLoopOptions) {
    this.#o = options;
    this.#readCount = options.turn.readCount;
  }

  /** Entries the next turn reads per shard (below the node's readCount while turns run long). */
  get readCount(): number {
    return this.#readCount;
  }

  start(): void {
    this.#done = this.#run();
  }

  /** Resolves when the loop has ended (after the node's stop), its last turn committed. */
  get done(): Promise<void> {
    return this.#done ?? Promise.resolve();
  }

  /** The turn in flight (settled, never rejecting): let it commit before handing its shards off. */
  get inFlight(): Promise<unknown> {
    return this.#turn;
  }

  /** Ends the wait between turns: there is work (new shards, timers fired, a stop). */
  wake(): void {
    this.#pause.wake();
  }

  async #run(): Promise<void> {
    while (!this.#o.signal.aborted) {
      const view = this.#o.held.view();
      const shards = view.shards as Owned[];
      if (shards.length === 0) {
        await this.#pause.sleep(50);
        continue;
      }
      const startedAt = Date.now();
      const sweep = startedAt >= this.#nextSweep;
      if (sweep) this.#nextSweep = startedAt + this.#o.sweepIntervalMs;
      const max = this.#o.turn.readCount;
      const options =
        this.#readCount === max ? this.#o.turn : { ...this.#o.turn, readCount: this.#readCount };
      const turn = runTurn(options, view, sweep);
      this.#turn = turn.catch(() => {});
      try {
        const result = await turn;
        afterTurn(this.#o, this.counters, { result, used: view.byShard as ReadonlyMap<number, Owned> });
        this.#bound(Date.now() - startedAt, max);
        await this.#rest(result, startedAt);
      } catch (error) {
        // Nothing of this turn was committed: forget the in-memory state it touched and read
        // the shards' pending entries again.
        this.#o.log.error({ err: toError(error) }, 'turn failed; re-reading pending entries');
        this.#o.held.replay(shards);
        await this.#pause.sleep(100);
      }
    }
  }

  /** The next turn's entries per shard after one that took `elapsedMs` (read-budget.ts). */
  #bound(elapsedMs: number, max: number): void {
    const before = this.#readCount;
    this.#readCount = nextReadCount(before, elapsedMs, this.#o.turnBudgetMs, max);
    if (before === max && this.#readCount < max)
      this.#o.log.warn(
        { elapsedMs, budgetMs: this.#o.turnBudgetMs, readCount: this.#readCount },
        'a turn ran past its budget: reading fewer entries per shard until turns are short again',
      );
  }

  /** Waits before the next turn: the rest of the turn interval, longer while nothing comes in. */
  async #rest(result: TurnResult, startedAt: number): Promise<void> {
    const { turnIntervalMs } = this.#o;
    if (result.read === 0) {
      await this.#pause.sleep(Math.max(this.#idleMs, turnIntervalMs));
      this.#idleMs = Math.min(this.#idleMs * 2, 20);
    } else {
      this.#idleMs = 1;
      const rest = turnIntervalMs - (Date.now() - startedAt);
      if (rest > 0) await this.#pause.sleep(rest);
    }
  }
}

/** A sleep that `wake` ends early. */
class Pause {
  #wake: (() => void) | undefined;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  wake(): void {
    this.#wake?.();
  }
}

function zeroCounters(): TurnCounters {
  return { read: 0, handled: 0, deadLettered: 0, duplicatesSkipped: 0, fencedCommits: 0, turns: 0 };
}

/** Counts the turn, moves the history cursors on, drops the shards whose commit was fenced. */
function afterTurn(
  o: TurnLoopOptions,
  counters: TurnCounters,
  turn: { readonly result: TurnResult; readonly used: ReadonlyMap<number, Owned> },
): void {
  const { result, used } = turn;
  counters.turns++;
  counters.read += result.read;
  counters.handled += result.handled;
  counters.deadLettered += result.deadLettered;
  counters.duplicatesSkipped += result.duplicatesSkipped;
  for (const [shard, from] of result.cursors) used.get(shard)!.from = from;
  if (result.cursors.size > 0 || result.fenced.length > 0) o.held.invalidate();
  for (const shard of result.fenced) {
    counters.fencedCommits++;
    const owned = used.get(shard)!;
    o.log.warn({ shard, epoch: owned.epoch }, 'commit fenced: lease lost; dropping the shard');
    o.held.dropFenced(owned);
  }
}
