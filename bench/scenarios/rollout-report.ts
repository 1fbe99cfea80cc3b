/**
 * The `rollout` scenario's numbers: the JSON fields, the table against its targets, and
 * the plot (edges healthy, MB verified per second, origin MB, over phase 1).
 */
import type { Target } from '../report.ts';
import type { ScenarioResult } from './common.ts';

/** One look at phase 1 (every half second). */
export interface Sample {
  readonly t: number;
  readonly healthy: number;
  readonly bytesVerified: number;
  readonly originBytes: number;
}

interface Counts {
  readonly members: number;
  readonly pending: number;
  readonly inFlight: number;
  readonly healthy: number;
  readonly failed: number;
}

interface View {
  readonly status: string;
  readonly reason: string | null;
  readonly counts: Counts;
  readonly waves: readonly (Counts & { readonly state: string })[];
}

interface EdgeProgress {
  readonly publishErrors: number;
  readonly rollouts: Record<string, { healthy: number; rolledBack: number; failed: number }>;
  readonly errors: Record<string, number>;
  readonly reasons: readonly string[];
  readonly tufRetries: number;
}

export interface PhaseOne {
  readonly view: View;
  /** When each edge reported healthy, ms after the POST, sorted. */
  readonly healthyAt: readonly number[];
  /** The load processes' CPU over the phase (µs) and the bytes they verified. */
  readonly cpuMicros: number;
  readonly bytesVerified: number;
  readonly originBytes: number;
  /** Artifact requests the caches answered (access logs): count, hits, body bytes. */
  readonly served: { readonly requests: number; readonly hits: number; readonly bytes: number };
  readonly progress: EdgeProgress;
  readonly samples: readonly Sample[];
}

export interface PhaseTwo {
  readonly view: View;
  /** Edges made to fail, of wave 2's members. */
  readonly failing: number;
  readonly waveTwo: number;
  /** Edges outside waves 1–2 that were sent the update command (must be 0). */
  readonly beyondWaveTwo: number;
  readonly commanded: number;
  readonly originBytes: number;
  readonly progress: EdgeProgress;
  readonly seconds: number;
}

const MB = 2 ** 20;
const round = (n: number, digits = 3) => Number(n.toFixed(digits));

export function rolloutReport(r: {
  o: { edges: number; artifactMb: number; holdSeconds: number; failPercent: number };
  artifactBytes: number;
  v3Bytes: number;
  one: PhaseOne;
  two: PhaseTwo;
}): ScenarioResult {
  const { o, one, two, artifactBytes } = r;
  const k95 = Math.ceil(o.edges * 0.95);
  const t95 = one.healthyAt.length >= k95 ? round(one.healthyAt[k95 - 1]! / 1000, 1) : null;
  const mine1 = one.progress.rollouts['bench-v2'] ?? { healthy: 0, rolledBack: 0, failed: 0 };
  const mine2 = two.progress.rollouts['bench-v3'] ?? { healthy: 0, rolledBack: 0, failed: 0 };
  const cacheHitRatio = one.served.bytes > 0 ? round(1 - one.originBytes / one.served.bytes, 4) : 0;
  // Paused, no edge beyond wave 2 sent the command (edge side), and waves 3–4 untouched (hub side).
  const untouched = two.view.waves.slice(2).every((w) => w.pending === w.members);
  const paused = two.view.status === 'paused' && untouched;
  const cpuPerMb = one.bytesVerified > 0 ? Math.round(one.cpuMicros / (one.bytesVerified / MB)) : null;
  const result = {
    scenario: 'rollout',
    edges: o.edges,
    artifactBytes,
    originBytes: one.originBytes,
    cacheHitRatio,
    secondsTo95PercentUpdated: t95,
    rolledBack: mine1.rolledBack + mine2.rolledBack,
    failed: mine1.failed + mine2.failed,
    pausedAfterInjectedFailures: paused && two.beyondWaveTwo === 0,
    edgeCpuMicrosPerMbVerified: cpuPerMb,
    phase1: {
      status: one.view.status,
      reason: one.view.reason,
      healthy: mine1.healthy,
      hubCounts: one.view.counts,
      mbVerified: round(one.bytesVerified / MB, 1),
      cacheRequests: one.served.requests,
      cacheRequestHitRatio: one.served.requests > 0 ? round(one.served.hits / one.served.requests, 4) : 0,
      originBytesPerArtifact: round(one.originBytes / artifactBytes, 2),
      edgeErrors: one.progress.errors,
      edgeErrorSamples: one.progress.reasons,
      tufRefreshRetries: one.progress.tufRetries,
      publishErrors: one.progress.publishErrors,
    },
    phase2: {
      status: two.view.status,
      reason: two.view.reason,
      waveTwoEdges: two.waveTwo,
      madeToFail: two.failing,
      commanded: two.commanded,
      edgesBeyondWave2Commanded: two.beyondWaveTwo,
      wavesStarted: two.view.waves.filter((w) => w.members > w.pending).length,
      healthy: mine2.healthy,
      rolledBack: mine2.rolledBack,
      originBytes: two.originBytes,
      seconds: round(two.seconds, 1),
    },
    artifactMb: o.artifactMb,
    holdSeconds: o.holdSeconds,
    failPercent: o.failPercent,
  };
  const targets: Target[] = [
    {
      metric: 'originBytes / artifactBytes',
      value: result.phase1.originBytesPerArtifact,
      target: '≤ 3',
      met: one.originBytes <= 3 * artifactBytes,
    },
    { metric: 'cacheHitRatio (bytes)', value: cacheHitRatio, target: '—', met: true },
    {
      metric: 'secondsTo95PercentUpdated',
      value: t95 ?? -1,
      target: '< 600',
      met: t95 !== null && t95 < 600,
    },
    { metric: 'failed (both phases)', value: result.failed, target: '0', met: result.failed === 0 },
    { metric: 'rolled back (phase 2, injected)', value: result.rolledBack, target: '—', met: true },
    {
      metric: 'phase 2 edges beyond wave 2 commanded',
      value: two.beyondWaveTwo,
      target: '0, rollout paused',
      met: result.pausedAfterInjectedFailures,
    },
    { metric: 'edge CPU µs per MB verified', value: cpuPerMb ?? -1, target: '—', met: true },
  ];
  const s = one.samples;
  return {
    result,
    targets,
    plot: {
      xLabel: 'second of phase 1',
      x: s.map((x) => x.t),
      charts: [
        { label: 'edges healthy', values: s.map((x) => x.healthy) },
        {
          label: 'MB verified per second (edges)',
          values: s.map((x, i) => {
            const before = s[i - 1] ?? x;
            return x.t > before.t ? (x.bytesVerified - before.bytesVerified) / MB / (x.t - before.t) : 0;
          }),
        },
        { label: 'MB served by the origin (cumulative)', values: s.map((x) => x.originBytes / MB) },
      ],
    },
  };
}
