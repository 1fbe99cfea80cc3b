/** The log shipper's options, its counts, and its interface (shipper.ts implements it). */
import type { Logger } from '../../actors/logger.ts';
import type { LogRecord, LogStore } from '../mod.ts';

export interface LogShipperOptions {
  readonly store: LogStore;
  /** The on-disk buffer: a folder this shipper alone writes (claimBufferDir gives one). */
  readonly dir: string;
  /** The most bytes the on-disk buffer holds; past it, lines are dropped (counted). */
  readonly maxBufferBytes: number;
  /** Records per write (default 1000). */
  readonly batchLines?: number;
  /** A partial batch is sent after at most this long (ms, default 1000). */
  readonly flushMs?: number;
  /** The shipper's own lines (state changes only). Must not ship into this shipper. */
  readonly logger?: Logger;
  /** One write may take this long before it counts as failed (ms, default 10 000). */
  readonly writeTimeoutMs?: number;
  /** Backoff between retries while the store is away: doubles from minMs to maxMs, jittered. */
  readonly backoff?: { readonly minMs?: number; readonly maxMs?: number };
  /**
   * Acknowledged batches are kept this long (ms, default 10 000; 0: not at all) and sent again
   * when a write fails within it: a store that acknowledges before its data is on disk
   * (VictoriaLogs flushes every 5 s) and then crashes loses nothing. At most 10 batches are held.
   */
  readonly holdMs?: number;
  /** Dispose sends for at most this long, then puts the rest on disk for the next run (ms, default 5000). */
  readonly closeTimeoutMs?: number;
}

export interface LogShipperStats {
  /** Records pushed and not yet acknowledged by the store nor dropped (memory and disk). */
  readonly queued: number;
  /** Records the store acknowledged (a re-sent one each time). */
  readonly shipped: number;
  /** Records dropped: past the disk bound, refused by the store as malformed, or pushed after close. */
  readonly dropped: number;
  /** Records written to the on-disk buffer (each once, also when later shipped). */
  readonly buffered: number;
  /** Acknowledged records queued again because the store failed right after (counted in shipped twice). */
  readonly resent: number;
  /** Bytes in the on-disk buffer now. */
  readonly bufferedBytes: number;
  /** False from a failed write until the next acknowledged one. */
  readonly storeUp: boolean;
}

export interface LogShipper extends AsyncDisposable {
  /** Queues one record; never waits, never throws. */
  push(record: LogRecord): void;
  stats(): LogShipperStats;
  /** Resolves when every record pushed before it is acknowledged, dropped, or on disk while the store is away. */
  flush(): Promise<void>;
}
