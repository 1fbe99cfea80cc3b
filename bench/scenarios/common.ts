/** What every benchmark scenario takes and returns, and the steps they share. */
import type { BenchCluster } from '../cluster.ts';
import type { LoadGenerator } from '../load-process.ts';
import { Monitor } from '../monitor.ts';
import type { Plot, Target } from '../report.ts';

/** The latency rows of a report: p50 and max as measured, p99 against `p99Below` ms. */
export function latencyTargets(
  latencyMs: { p50: number; p99: number; max: number },
  p99Below: number,
): Target[] {
  return [
    { metric: 'latency p50 (ms)', value: latencyMs.p50, target: '—', met: true },
    {
      metric: 'latency p99 (ms)',
      value: latencyMs.p99,
      target: `< ${p99Below}`,
      met: latencyMs.p99 < p99Below,
    },
    { metric: 'latency max (ms)', value: latencyMs.max, target: '—', met: true },
  ];
}

export interface ScenarioOptions {
  readonly edges: number;
  readonly nodes: number;
  readonly seconds: number;
  /** ingest: the edges' transport and workload, and how many link processes share them. */
  readonly transport?: 'mqtt' | 'kafka';
  readonly workload?: 'legacy' | 'compact';
  readonly links?: number;
  /**
   * ingest over MQTT: edges (a certificate each) and links (their own) on the broker's mTLS
   * listener, and every edge connecting within the first second (a reconnect storm over TLS).
   */
  readonly tls?: boolean;
  /** rollout: the artifact's size (MiB, default 5), each wave's hold (default 30 s), the share of
   * wave 2's edges made to fail in phase 2 (default 5 %), the agents' start spread (default 30 s)
   * and the load processes the edges run in (default 4). */
  readonly artifactMb?: number;
  readonly holdSeconds?: number;
  readonly failPercent?: number;
  /** rollout: how often the rollout actor looks at its edges (default its own, 2 s); smoke runs only. */
  readonly checkEverySeconds?: number;
  readonly spreadSeconds?: number;
  readonly processes?: number;
}

export interface ScenarioResult {
  readonly result: Record<string, unknown>;
  readonly targets: Target[];
  readonly plot: Plot;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the edges' states account for every message sent (or 60 s pass). */
export async function drain(
  cluster: BenchCluster,
  load: { edges: number; sent: number; idOf?: (i: number) => string },
): Promise<void> {
  const { edges, sent, idOf } = load;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const states = await cluster.edgeStates(edges, idOf);
    const total = states.reduce((sum, s) => sum + (s?.seq.received ?? 0), 0);
    if (total >= sent) return;
    await sleep(500);
  }
}

/**
 * Starts the load for `seconds`, with the progress line, and waits `warmupMs` before returning:
 * what every scenario does before it measures.
 */
export async function startLoad(
  cluster: BenchCluster,
  label: string,
  o: { edges: number; seconds: number; warmupMs: number },
): Promise<{ load: LoadGenerator; monitor: Monitor }> {
  const load = cluster.startLoad(o.edges, o.seconds);
  const monitor = new Monitor(
    label,
    () => cluster.stats(),
    () => load.sent,
  );
  monitor.start(o.seconds);
  await sleep(o.warmupMs);
  return { load, monitor };
}
