/**
 * Reconnect delays with full jitter: attempt n waits a random time in [0, min(cap, base·2^n)).
 * mqtt.js retries every `reconnectPeriod` in lockstep, so after a broker restart every edge of a
 * fleet would knock at the same instant, over and over (and mosquitto's accept backlog is 100);
 * spread at random and growing, the knocks fit what the broker accepts.
 */

export interface Backoff {
  /** The first attempt's window (ms). */
  readonly baseMs: number;
  /** The largest window (ms). */
  readonly capMs: number;
}

/** The delay before reconnect attempt `attempt` (0 first), with `random()` in [0, 1). */
export function jitteredBackoffMs(
  attempt: number,
  backoff: Backoff,
  random: () => number = Math.random,
): number {
  const { baseMs, capMs } = backoff;
  if (!(baseMs > 0) || !(capMs >= baseMs))
    throw new RangeError(`Backoff: need 0 < baseMs <= capMs, got ${baseMs} and ${capMs}`);
  // 2^attempt overflows to Infinity past ~1024; min() keeps the window at the cap.
  const window = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * window);
}
