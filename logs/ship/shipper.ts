/**
 * The log shipper: a process's log records, batched to the log store without blocking the event
 * loop, and nothing lost while the store is away — up to a bound on disk.
 *
 * `push` appends to the batch in memory (never waits, never throws). A batch is sealed when it
 * holds `batchLines` records or every `flushMs`, and one pump sends the sealed batches in order.
 * When a write fails (the store unreachable, or a 5xx), that batch and every later one go to the
 * on-disk buffer (disk-buffer.ts: one file per batch, async writes through one writer); the pump
 * retries the oldest files after a backoff with jitter (the retried write is the probe), deletes
 * them once the store acknowledged them, and sends directly again once the buffer is empty — so
 * lines reach the store in the order they were pushed. A new shipper on the same folder replays
 * what an earlier one left. Delivery is at least once: a batch the store took whose answer was
 * lost (a timeout, a kill -9 between the answer and the delete) is sent again, and so are the
 * batches it acknowledged within `holdMs` before a failed write (a store that crashed may have
 * lost them: VictoriaLogs acknowledges rows it holds in memory).
 * Only a spill past `maxBufferBytes` drops lines (the newest: docs/decisions/037-hub-log-shipping.md),
 * counted in `stats().dropped`; so is a batch the store refuses as malformed (REJECTED, a 4xx).
 */
import type { Logger } from '../../actors/logger.ts';
import type { LogRecord, LogStore } from '../mod.ts';
import { quietLogger } from '../quiet-logger.ts';
import { DiskBuffer, type Segment } from './disk-buffer.ts';
import { HeldBatches } from './held-batches.ts';
import { retryable } from './retryable.ts';
import type { LogShipper, LogShipperOptions, LogShipperStats } from './types.ts';

interface Batch {
  readonly order: number;
  readonly records: LogRecord[];
}

function positive(name: string, value: number, min = 1): number {
  if (!Number.isFinite(value) || value < min)
    throw new RangeError(`Cannot open log shipper: ${name} must be ≥ ${min}, got ${value}`);
  return value;
}

/** Opens the shipper; its folder is scanned in the background (pushes are taken at once). */
export function openLogShipper(options: LogShipperOptions): LogShipper {
  return new Shipper(options);
}

class Shipper implements LogShipper {
  readonly #store: LogStore;
  readonly #disk: DiskBuffer;
  readonly #log: Logger;
  readonly #batchLines: number;
  readonly #writeTimeoutMs: number;
  readonly #minBackoff: number;
  readonly #maxBackoff: number;
  readonly #closeTimeoutMs: number;
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #abort = new AbortController();
  readonly #done: Promise<void>;
  #batch: LogRecord[] = [];
  #pending: Batch[] = [];
  #pendingLines = 0;
  #inflightLines = 0;
  #order = 0;
  #shipped = 0;
  #dropped = 0;
  #buffered = 0;
  #resent = 0;
  /** Acknowledged batches, kept `holdMs` in case the store loses them. */
  readonly #held: HeldBatches;
  #storeUp = true;
  #backoffMs: number;
  #retryAt = 0;
  #full = false;
  #closed = false;
  #final = false;
  /** The folder was scanned: spills may start. */
  #ready = false;
  #wake: (() => void) | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(o: LogShipperOptions) {
    this.#store = o.store;
    this.#log = o.logger ?? quietLogger;
    this.#batchLines = positive('batchLines', o.batchLines ?? 1000);
    const flushMs = positive('flushMs', o.flushMs ?? 1000);
    this.#writeTimeoutMs = positive('writeTimeoutMs', o.writeTimeoutMs ?? 10_000);
    this.#minBackoff = positive('backoff.minMs', o.backoff?.minMs ?? 200);
    this.#maxBackoff = positive('backoff.maxMs', o.backoff?.maxMs ?? 30_000, this.#minBackoff);
    this.#closeTimeoutMs = positive('closeTimeoutMs', o.closeTimeoutMs ?? 5000, 0);
    this.#backoffMs = this.#minBackoff;
    this.#held = new HeldBatches(positive('holdMs', o.holdMs ?? 10_000, 0));
    this.#disk = new DiskBuffer(o.dir, positive('maxBufferBytes', o.maxBufferBytes));
    this.#timer = setInterval(() => this.#seal(), flushMs);
    this.#timer.unref();
    this.#done = this.#run();
  }

  push(record: LogRecord): void {
    try {
      if (this.#closed || typeof record !== 'object' || record === null) {
        this.#dropped++;
        return;
      }
      this.#batch.push(record);
      if (this.#batch.length >= this.#batchLines) this.#seal();
    } catch {
      this.#dropped++;
    }
  }

  stats(): LogShipperStats {
    return {
      queued: this.#batch.length + this.#pendingLines + this.#inflightLines + this.#disk.lines,
      shipped: this.#shipped,
      dropped: this.#dropped,
      buffered: this.#buffered,
      resent: this.#resent,
      bufferedBytes: this.#disk.bytes,
      storeUp: this.#storeUp,
    };
  }

  async flush(): Promise<void> {
    this.#seal();
    await new Promise<void>((resolve) => {
      this.#idleWaiters.push(resolve);
      this.#kick();
    });
    await this.#disk.settled();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#closed) return this.#done;
    this.#seal();
    this.#closed = true;
    clearInterval(this.#timer);
    this.#kick();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.#closeTimeoutMs);
    });
    if ((await Promise.race([this.#done, late])) === 'late') {
      // Whatever the store did not take in time waits on disk for the next run.
      this.#final = true;
      this.#abort.abort(); // an AbortError: the batch is spilled, not dropped
      this.#kick();
      await this.#done;
    }
    clearTimeout(timer);
    await this.#disk.settled();
  }

  #seal(): void {
    if (this.#batch.length === 0) return;
    const records = this.#batch;
    this.#batch = [];
    this.#pending.push({ order: this.#order++, records });
    this.#pendingLines += records.length;
    // A slow store with a write in flight: memory holds a few batches, the rest waits on disk.
    if (this.#pendingLines > 4 * this.#batchLines && this.#ready) {
      if (this.#disk.failure === undefined) {
        const oldest = this.#pending.shift() as Batch;
        this.#pendingLines -= oldest.records.length;
        void this.#spill(oldest);
      } else {
        // No disk to wait on: memory stays bounded, the newest batch goes.
        this.#pending.pop();
        this.#pendingLines -= records.length;
        this.#drop(records.length, 'log store slow and no log buffer folder: dropping the newest lines');
      }
    }
    this.#kick();
  }

  #kick(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async #run(): Promise<void> {
    await this.#disk.ready();
    this.#ready = true;
    if (this.#disk.failure !== undefined)
      this.#log.error(
        { err: this.#disk.failure, dir: this.#disk.dir },
        'log buffer folder unusable: lines are dropped while the log store is away',
      );
    else if (this.#disk.lines > 0)
      this.#log.info(
        { lines: this.#disk.lines, bytes: this.#disk.bytes, dir: this.#disk.dir },
        'replaying log lines an earlier run left on disk',
      );
    for (;;) {
      // Lines on disk (or on their way there) go first: later batches queue behind them.
      const spilling = !this.#storeUp || this.#disk.lines > 0 || this.#final;
      if (this.#pending.length > 0 && !spilling) {
        const batch = this.#pending.shift() as Batch;
        this.#pendingLines -= batch.records.length;
        this.#inflightLines = batch.records.length;
        const sent = await this.#send(batch.records, batch.order);
        this.#inflightLines = 0;
        if (!sent) await this.#spill(batch);
        continue;
      }
      if (this.#pending.length > 0) {
        const batches = this.#pending;
        this.#pending = [];
        this.#pendingLines = 0;
        await Promise.all(batches.map((b) => this.#spill(b)));
        continue;
      }
      if (this.#disk.lines > 0 && !this.#final) {
        if (this.#disk.segments === 0) {
          await this.#disk.settled(); // spills still being written
          continue;
        }
        const wait = this.#storeUp ? 0 : this.#retryAt - Date.now();
        if (wait > 0) {
          if (this.#closed) break; // the store is away: the disk keeps the rest for the next run
          await this.#sleep(wait);
          continue;
        }
        await this.#replay(this.#disk.oldest(this.#batchLines));
        continue;
      }
      if (this.#closed) break;
      await this.#sleep(undefined);
    }
    this.#notifyIdle();
  }

  /** Sleeps until kicked (or `ms` passed); flush() waiters learn that the pump is idle. */
  async #sleep(ms: number | undefined): Promise<void> {
    this.#notifyIdle();
    await new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #notifyIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  async #replay(segments: Segment[]): Promise<void> {
    const records: LogRecord[] = [];
    for (const s of segments) {
      try {
        const got = await this.#disk.read(s);
        records.push(...got.records);
        if (got.unreadable > 0) {
          this.#dropped += got.unreadable;
          this.#log.warn(
            { file: s.file, lines: got.unreadable },
            'unreadable lines in the log buffer dropped',
          );
        }
      } catch (err) {
        this.#dropped += s.lines;
        this.#log.warn({ err, file: s.file, lines: s.lines }, 'log buffer file unreadable: dropped');
      }
    }
    // Until removed, the disk still counts these records as queued.
    const order = this.#disk.orderOf(segments[0] as Segment);
    if (records.length > 0 && !(await this.#send(records, order))) return;
    try {
      await this.#disk.remove(segments);
    } catch (err) {
      this.#log.warn({ err }, 'shipped log buffer file not deleted (it will be sent again)');
    }
    if (this.#full && this.#disk.bytes < this.#disk.maxBytes / 2) this.#full = false;
  }

  async #spill(batch: Batch): Promise<void> {
    const { dropped, lost } = await this.#disk.spill(batch.records, batch.order);
    this.#drop(dropped, 'log buffer full: dropping the newest lines until the store takes some');
    this.#buffered += batch.records.length - dropped - lost;
    if (lost > 0) {
      this.#dropped += lost;
      this.#log.error({ err: this.#disk.lastError, lines: lost }, 'log buffer write failed: lines dropped');
    }
  }

  #drop(n: number, why: string): void {
    if (n === 0) return;
    this.#dropped += n;
    if (this.#full) return;
    this.#full = true;
    this.#log.warn({ maxBufferBytes: this.#disk.maxBytes, dir: this.#disk.dir }, why);
  }

  /** True when the records are done with (acknowledged, or refused for good and dropped). */
  async #send(records: readonly LogRecord[], order: number): Promise<boolean> {
    const signal = AbortSignal.any([AbortSignal.timeout(this.#writeTimeoutMs), this.#abort.signal]);
    try {
      await this.#store.write(records, signal);
    } catch (err) {
      if (!retryable(err)) {
        this.#dropped += records.length;
        this.#log.warn({ err, lines: records.length }, 'log store refused a batch: dropped');
        return true;
      }
      if (this.#storeUp) {
        this.#log.warn({ err, dir: this.#disk.dir }, 'log store unreachable: buffering log lines on disk');
        await this.#resendHeld();
      }
      this.#storeUp = false;
      const delay = this.#backoffMs / 2 + (Math.random() * this.#backoffMs) / 2;
      this.#retryAt = Date.now() + delay;
      this.#backoffMs = Math.min(this.#backoffMs * 2, this.#maxBackoff);
      return false;
    }
    this.#shipped += records.length;
    this.#held.add(order, records);
    if (!this.#storeUp)
      this.#log.info({ onDisk: this.#disk.lines, bytes: this.#disk.bytes }, 'log store back: replaying');
    this.#storeUp = true;
    this.#backoffMs = this.#minBackoff;
    return true;
  }

  async #resendHeld(): Promise<void> {
    const held = this.#held.takeRecent();
    if (held.length === 0) return;
    const lines = held.reduce((n, h) => n + h.records.length, 0);
    this.#resent += lines;
    this.#log.warn({ lines }, 'log store failed right after acknowledging lines: sending them again');
    for (const h of held) await this.#spill({ order: h.order, records: [...h.records] });
  }
}
