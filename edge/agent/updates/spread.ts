/**
 * The herd spread: each edge of a wave starts its download after its own random delay within the
 * rollout's `spreadMs`, so a wave of thousands reaches the mirrors as a steady stream, not at once.
 */

/** A delay uniform in [0, spreadMs): `random` is uniform in [0, 1) (default Math.random). */
export function spreadDelay(spreadMs: number, random: () => number = Math.random): number {
  if (!Number.isFinite(spreadMs) || spreadMs < 0)
    throw new RangeError(`spreadMs must be a finite number ≥ 0, got ${spreadMs}`);
  const u = random();
  if (!(u >= 0 && u < 1)) throw new RangeError(`random() must be in [0, 1), got ${u}`);
  return Math.floor(u * spreadMs);
}

/** Waits `ms`; rejects with the signal's reason as soon as it aborts. */
export function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
