/** What every benchmark scenario takes and returns, and the steps they share. */
import type { BenchCluster } from '../cluster.ts';
import type { Sample } from '../monitor.ts';
import type { Target } from '../report.ts';

export interface ScenarioOptions {
  readonly edges: number;
  readonly nodes: number;
  readonly seconds: number;
}

export interface ScenarioResult {
  readonly result: Record<string, unknown>;
  readonly targets: Target[];
  readonly samples: Sample[];
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the edges' states account for every message sent (or 60 s pass). */
export async function drain(cluster: BenchCluster, edges: number, sent: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const states = await cluster.edgeStates(edges);
    const total = states.reduce((sum, s) => sum + (s?.seq.received ?? 0), 0);
    if (total >= sent) return;
    await sleep(500);
  }
}
