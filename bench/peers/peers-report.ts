/**
 * The peers bench's outcome as the other scenarios give theirs (bench/report.ts): the JSON
 * `{"systems":[…]}`, one table of every system's figures against the issue's targets, and one
 * plot of applied msg/s and p99 per second of each system's run (the kill -9's hole included).
 */
import { floorRatio } from '../floors.ts';
import type { Plot, Target } from '../report.ts';
import type { RunOptions, SystemResult } from './run-system.ts';

/** The floor measured in the same run (bench/floors.ts): every system's worker CPU is also given as a ratio to it. */
export interface Floor {
  readonly name: string;
  readonly microsPerMsg: number;
}

export function peersReport(
  results: readonly SystemResult[],
  o: RunOptions & { concurrency: number; floor?: Floor },
): { result: Record<string, unknown>; targets: Target[]; plot: Plot } {
  const systems = results.map(({ timeline: _, ...s }) => ({
    ...s,
    ...(o.floor === undefined ? {} : { floorRatio: floorRatio(s.cpuMicrosPerMsg, o.floor.microsPerMsg) }),
  }));
  const result = {
    scenario: 'peers',
    edges: o.edges,
    seconds: o.seconds,
    workersPerSystem: results[0]?.workers ?? 0,
    bullmqConcurrency: o.concurrency,
    killAfterSeconds: o.warmupSeconds + o.seconds,
    restartAfterSeconds: o.restartSeconds,
    ...(o.floor === undefined ? {} : { floorMicrosPerMsg: o.floor.microsPerMsg, floorName: o.floor.name }),
    systems,
  };
  const of = (name: string) => results.find((r) => r.name === name);
  const hub = of('devicehub');
  const targets: Target[] = [];
  for (const s of results) {
    const isHub = s.name === 'devicehub';
    const peer = isHub ? undefined : s;
    const share = peer?.name === 'bullmq' ? 1 / 3 : 1 / 2;
    targets.push(
      {
        metric: `${s.name}: cpuMicrosPerMsg (2 workers)`,
        value: s.cpuMicrosPerMsg,
        target: isHub ? '—' : `devicehub ≤ ${share === 1 / 3 ? '1/3' : '1/2'} of this`,
        met: isHub || (hub !== undefined && hub.cpuMicrosPerMsg <= s.cpuMicrosPerMsg * share),
      },
      { metric: `${s.name}: Redis CPU µs/msg`, value: s.redisCpuMicrosPerMsg, target: '—', met: true },
      ...(s.brokerCpuMicrosPerMsg === null
        ? []
        : [
            {
              metric: `${s.name}: broker CPU µs/msg`,
              value: s.brokerCpuMicrosPerMsg,
              target: '—',
              met: true,
            },
          ]),
      {
        metric: `${s.name}: msgsPerSec`,
        value: s.msgsPerSec,
        target: `≈ ${Math.round(o.edges * 1.3)}`,
        met: true,
      },
      { metric: `${s.name}: p99 (ms)`, value: s.p99Ms, target: '—', met: true },
      { metric: `${s.name}: p99 after the kill (ms)`, value: s.p99AfterKillMs, target: '—', met: true },
      { metric: `${s.name}: lost`, value: s.lost, target: isHub ? '0' : '—', met: !isHub || s.lost === 0 },
      {
        metric: `${s.name}: duplicated`,
        value: s.duplicated,
        target: isHub ? '0' : '—',
        met: !isHub || s.duplicated === 0,
      },
      {
        metric: `${s.name}: outOfOrder`,
        value: s.outOfOrder,
        target: isHub ? '0' : '—',
        met: !isHub || s.outOfOrder === 0,
      },
    );
  }
  return { result, targets, plot: plotOf(results) };
}

/** Each system's run on one time axis (seconds since its workers started). */
function plotOf(results: readonly SystemResult[]): Plot {
  const length = Math.max(0, ...results.map((r) => r.timeline.length));
  const x = Array.from({ length }, (_, i) => i + 1);
  const series = (r: SystemResult, pick: (s: SystemResult['timeline'][number]) => number) =>
    x.map((_, i) => (r.timeline[i] === undefined ? 0 : pick(r.timeline[i]!)));
  return {
    xLabel: 'seconds of each system’s run (kill -9 of worker 1 after warm-up + window)',
    x,
    charts: [
      ...results.map((r) => ({ label: `${r.name}: applied msg/s`, values: series(r, (s) => s.msgsPerSec) })),
      ...results.map((r) => ({ label: `${r.name}: p99 ms (per second)`, values: series(r, (s) => s.p99Ms) })),
    ],
  };
}
