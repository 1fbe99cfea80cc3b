/**
 * The batches a store acknowledged in the last `holdMs` (at most 10): a store that acknowledges
 * rows it still holds in memory (VictoriaLogs flushes every 5 s) loses them when it crashes, so
 * the shipper sends them again when a write fails within that time (decision 037).
 */
import type { LogRecord } from '../mod.ts';

export interface HeldBatch {
  readonly at: number;
  /** The batch's place in the shipper's order (where it goes on disk when sent again). */
  readonly order: number;
  readonly records: readonly LogRecord[];
}

const MAX_HELD = 10;

export class HeldBatches {
  readonly holdMs: number;
  #held: HeldBatch[] = [];

  constructor(holdMs: number) {
    this.holdMs = holdMs;
  }

  add(order: number, records: readonly LogRecord[]): void {
    if (this.holdMs === 0) return;
    this.#held.push({ at: Date.now(), order, records });
    if (this.#held.length > MAX_HELD) this.#held.shift();
  }

  /** The batches acknowledged within `holdMs`, oldest first; the rest are let go. */
  takeRecent(): HeldBatch[] {
    const since = Date.now() - this.holdMs;
    const recent = this.#held.filter((h) => h.at >= since);
    this.#held = [];
    return recent;
  }
}
