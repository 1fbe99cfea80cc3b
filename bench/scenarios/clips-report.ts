/**
 * The `clips` bench's report: the JSON the issue asks for (one object per run plus the 3-vs-1
 * throughput ratio), the table's targets, and the plot (clips stored over time per run, Ezviz
 * calls per second against the budget).
 */
import type { Plot, Target } from '../report.ts';
import type { ClipsRunResult } from './clips-run.ts';
import type { ScenarioResult } from './common.ts';

/** One run as the JSON names it, plus what explains it. */
export function runJson(r: ClipsRunResult) {
  const t = r.tally;
  return {
    run: r.label,
    alarms: t.alarms,
    clipsStored: t.clipsStored,
    duplicates: t.duplicates,
    missing: t.missing,
    ezvizCallsMaxPerSecond: r.ezvizCallsMaxPerSecond,
    budgetPerSecond: r.budgetPerSecond,
    p95AlarmEndToStoredMs: Math.round(t.p95AlarmEndToStoredMs),
    workers: r.workers,
    alarmsWithClip: t.alarmsWithClip,
    clipsFailed: t.clipsFailed,
    failedAsCaused: t.failedAsCaused,
    failedCodes: t.failedCodes,
    unwantedClips: t.unwanted,
    p50AlarmEndToStoredMs: Math.round(t.p50AlarmEndToStoredMs),
    stormThroughputPerSecond: round2(t.stormThroughputPerSecond),
    stormWindowSeconds: round2(t.stormWindowSeconds),
    ezvizCalls: r.ezvizCalls,
    ezvizCallsPerClip: round2(r.ezvizCalls / Math.max(1, t.clipsStored + t.clipsFailed)),
    seconds: Math.round(r.seconds),
    ...(r.kill === null ? {} : { killed: r.kill }),
    ...(t.missingIds.length > 0 ? { firstMissing: t.missingIds } : {}),
    ...(t.duplicateIds.length > 0 ? { firstDuplicates: t.duplicateIds } : {}),
    refetched: t.refetched,
    ...(t.refetchedIds.length > 0 ? { firstRefetched: t.refetchedIds } : {}),
  };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

export function clipsReport(r: {
  setup: Record<string, unknown>;
  one: ClipsRunResult;
  three: ClipsRunResult;
  tight: ClipsRunResult | undefined;
}): ScenarioResult {
  const runs = [r.one, r.three, ...(r.tight === undefined ? [] : [r.tight])];
  const ratio = r.three.tally.stormThroughputPerSecond / r.one.tally.stormThroughputPerSecond;
  const result = {
    scenario: 'clips',
    ...r.setup,
    runs: runs.map(runJson),
    throughputRatio3vs1: round2(ratio),
  };
  const targets: Target[] = [];
  for (const run of runs) {
    const t = run.tally;
    const name = run.label;
    targets.push(
      { metric: `${name}: alarms (with a clip)`, value: t.alarmsWithClip, target: '—', met: true },
      { metric: `${name}: clips stored`, value: t.clipsStored, target: '—', met: true },
      {
        metric: `${name}: failed, as the stand-in was told`,
        value: t.failedAsCaused,
        target: '—',
        met: true,
      },
      {
        metric: `${name}: duplicates (Ezviz tasks, objects)`,
        value: t.duplicates,
        target: '0',
        met: t.duplicates === 0,
      },
      { metric: `${name}: clips downloaded in full twice`, value: t.refetched, target: 'counted', met: true },
      { metric: `${name}: missing`, value: t.missing, target: '0', met: t.missing === 0 },
      {
        metric: `${name}: Ezviz calls, most in a second`,
        value: run.ezvizCallsMaxPerSecond,
        target: `≤ ${run.budgetPerSecond} (budget)`,
        met: run.ezvizCallsMaxPerSecond <= run.budgetPerSecond,
      },
      {
        metric: `${name}: p95 alarm end → stored (ms)`,
        value: t.p95AlarmEndToStoredMs,
        target: '—',
        met: true,
      },
      {
        metric: `${name}: storm throughput (clips/s)`,
        value: t.stormThroughputPerSecond,
        target: '—',
        met: Number.isFinite(t.stormThroughputPerSecond),
      },
    );
    if (run.kill !== null) {
      const unfinished = run.kill.inFlight.filter((c) => c.finally !== 'stored' && c.finally !== 'failed');
      targets.push({
        metric: `${name}: clips the killed worker held, finished by others`,
        value: run.kill.inFlight.length - unfinished.length,
        target: `all ${run.kill.inFlight.length}`,
        met: unfinished.length === 0,
      });
    }
  }
  targets.push({
    metric: 'throughput 3 workers / 1 worker',
    value: ratio,
    target: '≥ 2.5',
    met: ratio >= 2.5,
  });
  return { result, targets, plot: clipsPlot(runs) };
}

function clipsPlot(runs: readonly ClipsRunResult[]): Plot {
  const last = Math.max(1, ...runs.flatMap((r) => r.samples.map((s) => s.t)));
  const x = Array.from({ length: last + 1 }, (_, i) => i);
  const at = (
    r: ClipsRunResult,
    t: number,
    f: (s: ClipsRunResult['samples'][number]) => number,
    hold: boolean,
  ) => {
    let value = 0;
    for (const s of r.samples) {
      if (s.t === t) return f(s);
      if (s.t < t && hold) value = f(s);
    }
    return value;
  };
  return {
    xLabel: 'second of the run (the storm at the same second in each)',
    x,
    charts: [
      ...runs.slice(0, 2).map((r) => ({
        label: `clips stored, ${r.label}`,
        values: x.map((t) => at(r, t, (s) => s.stored, true)),
      })),
      ...[runs[1]!, ...runs.slice(2)].map((r) => ({
        label: `Ezviz calls per second, ${r.label} (budget ${r.budgetPerSecond})`,
        values: x.map((t) => at(r, t, (s) => s.ezvizCallsPerSecond, false)),
      })),
    ],
  };
}
