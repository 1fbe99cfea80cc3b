/**
 * What a clip worker process counts, for its /metrics (clips/metrics.ts) and for tests: clips
 * stored and failed (by code), retries (by code), polls, results sent again, downloads tried
 * again, and the time from an alarm's end to its clip in the store.
 */
import { Histogram } from '../../actors/mod.ts';

export interface ClipWorkerStats {
  /** Jobs this process began running (a delayed job counts at each run). */
  runs: number;
  /** Clips this process stored (the row's 'stored' was its write). */
  stored: number;
  /** Clips this process failed, by code. */
  readonly failed: Record<string, number>;
  /** Retryable failures backed off, by code. */
  readonly retries: Record<string, number>;
  /** Ezviz task polls that found it still running. */
  polls: number;
  /** Jobs whose row was already final: the result was sent again, nothing else done. */
  resent: number;
  /** Download URLs asked again (expired or refused) and downloads tried again (cut). */
  readonly downloadRetries: { expired: number; cut: number };
  /** Alarm end (or the request, for a clip cut at its longest) → stored, ms. */
  readonly alarmEndToStoredMs: Histogram;
}

export function newClipWorkerStats(): ClipWorkerStats {
  return {
    runs: 0,
    stored: 0,
    failed: {},
    retries: {},
    polls: 0,
    resent: 0,
    downloadRetries: { expired: 0, cut: 0 },
    alarmEndToStoredMs: new Histogram(),
  };
}

/** Adds one to `counts[code]`. */
export function countCode(counts: Record<string, number>, code: string): void {
  counts[code] = (counts[code] ?? 0) + 1;
}
