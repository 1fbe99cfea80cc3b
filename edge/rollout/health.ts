/**
 * The health comparison's bookkeeping: which side an edge is on (updated = healthy on the new
 * version; control = a member not yet assigned; edges in flight are on neither, so an install's
 * own restart counts nowhere), its events per side and kind, and each side's exposure in
 * edge-ms, brought up to date before every change of side. The test itself: health-test.ts.
 */
import { compareRates } from './health-test.ts';
import { M, type MemberStatus } from './members.ts';
import type { CheckedSpec, HealthEventKind } from './spec.ts';
import { emptySide, type HealthSide, type HealthTally, type HealthVerdictSummary } from './state.ts';

export type Side = 'updated' | 'control';

export function sideOf(status: MemberStatus): Side | undefined {
  if (status === M.healthy) return 'updated';
  if (status === M.pending) return 'control';
  return undefined;
}

const copy = (s: HealthSide): HealthSide => ({ ...s, byKind: { ...s.byKind } });

/** Exposure brought up to `now`. */
export function advance(tally: HealthTally, now: number): HealthTally {
  const dt = tally.at === 0 ? 0 : Math.max(0, now - tally.at);
  if (dt === 0 && tally.at !== 0) return tally;
  const grow = (s: HealthSide): HealthSide => ({ ...copy(s), exposureMs: s.exposureMs + s.edges * dt });
  return { updated: grow(tally.updated), control: grow(tally.control), at: now };
}

/** An edge moved from one status to another (exposure already advanced). */
export function moved(tally: HealthTally, from: MemberStatus | undefined, to: MemberStatus): HealthTally {
  const a = from === undefined ? undefined : sideOf(from);
  const b = sideOf(to);
  if (a === b) return tally;
  const next = { updated: copy(tally.updated), control: copy(tally.control), at: tally.at };
  if (a !== undefined) next[a].edges--;
  if (b !== undefined) next[b].edges++;
  return next;
}

/** An event on one side (exposure already advanced). */
export function recorded(tally: HealthTally, side: Side, kind: HealthEventKind): HealthTally {
  const s = copy(tally[side]);
  s.events++;
  s.byKind[kind] = (s.byKind[kind] ?? 0) + 1;
  return { ...tally, [side]: s };
}

/** A fresh comparison with the same edges on each side (after a resume). */
export function restarted(tally: HealthTally, now: number): HealthTally {
  return {
    updated: { ...emptySide(), edges: tally.updated.edges },
    control: { ...emptySide(), edges: tally.control.edges },
    at: now,
  };
}

const HOUR = 3_600_000;

/** The test on the tally with the spec's settings. */
export function healthVerdict(tally: HealthTally, spec: CheckedSpec): HealthVerdictSummary {
  const h = spec.health ?? {};
  const verdict = compareRates(
    {
      updatedEvents: tally.updated.events,
      updatedExposure: tally.updated.exposureMs / HOUR,
      controlEvents: tally.control.events,
      controlExposure: tally.control.exposureMs / HOUR,
    },
    { alpha: h.alpha ?? 0.01, minEvents: h.minEvents ?? 5, minRatio: h.minRatio ?? 1.5 },
  );
  return {
    updatedEvents: tally.updated.events,
    updatedHours: round(tally.updated.exposureMs / HOUR),
    controlEvents: tally.control.events,
    controlHours: round(tally.control.exposureMs / HOUR),
    ratio: Number.isFinite(verdict.ratio) ? round(verdict.ratio) : verdict.ratio,
    pValue: Number(verdict.pValue.toPrecision(3)),
    significant: h.enabled !== false && verdict.significant,
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
