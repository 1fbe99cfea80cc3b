/**
 * The fleet's start-up backlog (every edge's birth, then every elevator's day starting at once)
 * drained before the measured window: waits until `seconds` consecutive per-second samples of the
 * monitor, from `from` on, carried traffic with a hub p99 under `p99Ms`. Returns false when that
 * did not happen within `timeoutMs` (the window is then measured anyway, and its p99 shows the
 * backlog).
 */
import { waitFor } from '../../infra/mod.ts';
import type { Sample } from '../monitor.ts';

export async function settled(
  samples: readonly Sample[],
  o: { from: number; seconds: number; p99Ms: number; timeoutMs: number },
): Promise<boolean> {
  const steady = () => {
    let run = 0;
    for (let i = o.from; i < samples.length; i++) {
      const s = samples[i]!;
      run = s.msgsPerSec > 0 && s.p99Ms < o.p99Ms ? run + 1 : 0;
      if (run >= o.seconds) return true;
    }
    return false;
  };
  return waitFor(steady, { timeoutMs: o.timeoutMs, intervalMs: 250 }).then(
    () => true,
    () => false,
  );
}
