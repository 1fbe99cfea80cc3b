/**
 * The demo's and the cluster's Prometheus, checked through its API as an operator would: every
 * scrape job expected is there, and every target of it is up (GET /api/v1/targets).
 */
import assert from 'node:assert/strict';
import { waitFor } from '../../infra/mod.ts';

interface Target {
  labels: { job: string; instance: string };
  health: string;
  lastError: string;
  scrapeUrl: string;
}

/** Waits until Prometheus at `url` has every job of `jobs` with all its targets up; returns the targets. */
export async function checkTargetsUp(o: {
  url: string;
  jobs: readonly string[];
  /** Each job's number of targets, where it matters. */
  counts?: Readonly<Record<string, number>>;
  said: () => string;
}): Promise<Target[]> {
  let last: Target[] = [];
  const targets = await waitFor(
    async () => {
      const res = await fetch(`${o.url}/api/v1/targets?state=active`);
      last = ((await res.json()) as { data: { activeTargets: Target[] } }).data.activeTargets;
      const jobs = new Set(last.map((t) => t.labels.job));
      return o.jobs.every((j) => jobs.has(j)) && last.every((t) => t.health === 'up') && last;
    },
    {
      timeoutMs: 60_000,
      intervalMs: 500,
      message: `Prometheus at ${o.url}: jobs ${o.jobs.join(', ')} with every target up`,
    },
  ).catch((error: unknown) => {
    const state = last.map((t) => `${t.labels.job} ${t.scrapeUrl}: ${t.health} ${t.lastError}`).join('\n  ');
    throw new Error(`${(error as Error).message}; the targets:\n  ${state}\nit said:\n${o.said()}`);
  });
  for (const [job, count] of Object.entries(o.counts ?? {}))
    assert.equal(targets.filter((t) => t.labels.job === job).length, count, `${job}'s targets`);
  return targets;
}
