/**
 * An edge's log line budget, the same rule on both sides (docs/decisions/038): a token bucket of
 * lines (a rate a second, a burst) and bytes a UTC day. The agent keeps the configured one
 * (edge/agent/agent-logs.ts), the hub's links a ceiling per edge (edge/link/log-intake.ts).
 */

const DAY_MS = 86_400_000;

/** What becomes of a line: taken, or the limit it is over. */
export type LineVerdict = 'taken' | 'rate' | 'bytes';

/** A line's bytes (its text as UTF-8, or its bytes). */
export function lineBytes(msg: string | Uint8Array): number {
  return typeof msg === 'string' ? Buffer.byteLength(msg) : msg.byteLength;
}

export class LineBudget {
  #tokens: number;
  /** When the bucket was last refilled (ms); its UTC day is the day `#bytes` counts. */
  #at: number;
  #bytes = 0;

  /** A full bucket of `burst` lines at `now`. */
  constructor(burst: number, now: number) {
    this.#tokens = burst;
    this.#at = now;
  }

  /** Refills the bucket to `now` (at most `burst`), and starts a new day's bytes past UTC midnight. */
  refill(now: number, linesPerSecond: number, burst: number): void {
    this.#tokens = Math.min(burst, this.#tokens + (Math.max(0, now - this.#at) / 1000) * linesPerSecond);
    if (Math.floor(now / DAY_MS) !== Math.floor(this.#at / DAY_MS)) this.#bytes = 0;
    this.#at = now;
  }

  /** Takes a line of `size` bytes if both limits allow it (the rate is checked first). */
  take(size: number, bytesPerDay: number): LineVerdict {
    if (this.#tokens < 1) return 'rate';
    if (this.#bytes + size > bytesPerDay) return 'bytes';
    this.#tokens--;
    this.#bytes += size;
    return 'taken';
  }
}
