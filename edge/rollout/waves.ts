/**
 * Waves: where a member goes (`waveOf`: its building's wave, else the percent waves by a hash of
 * rollout and edge — deterministic, so a repeated create or join places it the same), the
 * success gate after a wave's hold, the error threshold and the rate limit's token bucket.
 */
import { fnv1a32, mix32 } from '../../bus/mod.ts';
import { isFailure, isFinished, type MemberRecord, type WaveCounts } from './members.ts';
import type { CheckedSpec, ErrorThreshold, RolloutMember, WaveSpec } from './spec.ts';

/** The wave a member belongs to: a wave naming its building, else the first percent wave its hash falls in. */
export function waveOf(waves: readonly WaveSpec[], rolloutId: string, member: RolloutMember): number {
  if (
    member.wave !== undefined &&
    Number.isInteger(member.wave) &&
    member.wave >= 0 &&
    member.wave < waves.length
  )
    return member.wave;
  if (member.building !== undefined) {
    const i = waves.findIndex((w) => w.buildings?.includes(member.building!));
    if (i >= 0) return i;
  }
  const u = (mix32(fnv1a32(member.edgeId), fnv1a32(rolloutId)) / 2 ** 32) * 100;
  for (const [i, w] of waves.entries()) if (w.percent !== undefined && u < w.percent) return i;
  return waves.length - 1;
}

/** What the current wave's gate says once all its members finished and its hold passed. */
export type GateVerdict =
  | { readonly kind: 'wait' }
  | { readonly kind: 'hold'; readonly until: number }
  | { readonly kind: 'pass' }
  | { readonly kind: 'fail'; readonly healthyPercent: number };

/**
 * The gate of a wave: `wait` while members are pending or in flight, `hold` until `doneAt + holdMs`,
 * then `pass` when the healthy share reaches successPercent (an empty wave passes), else `fail`.
 */
export function gate(
  wave: WaveSpec,
  counts: WaveCounts,
  o: { readonly doneAt: number; readonly now: number },
): GateVerdict {
  if (counts.pending > 0 || counts.inFlight > 0 || o.doneAt === 0) return { kind: 'wait' };
  if (o.now < o.doneAt + wave.holdMs) return { kind: 'hold', until: o.doneAt + wave.holdMs };
  if (counts.members === 0) return { kind: 'pass' };
  const healthyPercent = (100 * counts.healthy) / counts.members;
  return healthyPercent >= wave.successPercent ? { kind: 'pass' } : { kind: 'fail', healthyPercent };
}

/** Failures and finished edges of the whole rollout. */
export function tally(members: Readonly<Record<string, MemberRecord>>): { failed: number; finished: number } {
  let failed = 0;
  let finished = 0;
  for (const id in members) {
    const s = members[id]![1];
    if (isFinished(s)) finished++;
    if (isFailure(s)) failed++;
  }
  return { failed, finished };
}

/** Why the error threshold trips (counted from `base`, the tally at the last resume), or undefined. */
export function thresholdTripped(
  threshold: ErrorThreshold | undefined,
  now: { failed: number; finished: number },
  base: { failed: number; finished: number },
): string | undefined {
  if (threshold === undefined) return undefined;
  const failed = now.failed - base.failed;
  const finished = now.finished - base.finished;
  if (threshold.count !== undefined && failed >= threshold.count)
    return `error threshold: ${failed} edges failed (threshold ${threshold.count})`;
  if (threshold.percent !== undefined && finished >= (threshold.minFinished ?? 10)) {
    const percent = (100 * failed) / finished;
    if (percent >= threshold.percent)
      return `error threshold: ${percent.toFixed(1)} % of ${finished} finished edges failed (threshold ${threshold.percent} %)`;
  }
  return undefined;
}

/** The rate limit: a token bucket holding at most one tick's worth plus one, filled at ratePerMinute. */
export function refill(
  bucket: { readonly tokens: number; readonly at: number },
  spec: Pick<CheckedSpec, 'ratePerMinute' | 'tickMs'>,
  now: number,
): { tokens: number; at: number } {
  const perMs = spec.ratePerMinute / 60_000;
  const cap = Math.max(1, perMs * spec.tickMs * 2);
  const elapsed = bucket.at === 0 ? spec.tickMs : Math.max(0, now - bucket.at);
  return { tokens: Math.min(cap, bucket.tokens + elapsed * perMs), at: now };
}
