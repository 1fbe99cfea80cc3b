/**
 * Prometheus text exposition (0.0.4) for the workers' /metrics (clips/metrics.ts,
 * vision/worker/metrics.ts): one HELP/TYPE per family, escaped label values, counters by code,
 * and histograms — from cumulative counts at fixed bounds, or (seconds) from an
 * actors/histogram.ts snapshot (ms) — and the process's own CPU and memory.
 */
import { Histogram, type HistogramJSON } from './histogram.ts';
import { type ProcessUsage, processUsage } from './process-usage.ts';

type Labels = Readonly<Record<string, string>>;

/** A histogram at fixed bounds: cumulative counts per bound (the +Inf bucket is `count`), and the sum. */
export interface CumulativeBuckets {
  readonly cumulative: Iterable<readonly [number, number]>;
  readonly count: number;
  readonly sum: number;
}

/** Prometheus text exposition (0.0.4): one HELP/TYPE per family, escaped label values. */
export class PromText {
  readonly #lines: string[] = [];

  family(name: string, type: 'gauge' | 'counter' | 'histogram', help: string): void {
    this.#lines.push(
      `# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`,
      `# TYPE ${name} ${type}`,
    );
  }

  sample(name: string, labels: Labels, value: number): void {
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    this.#lines.push(`${name}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''} ${formatValue(value)}`);
  }

  counter(name: string, help: string, labels: Labels, value: number): void {
    this.family(name, 'counter', help);
    this.sample(name, labels, value);
  }

  gauge(name: string, help: string, labels: Labels, value: number): void {
    this.family(name, 'gauge', help);
    this.sample(name, labels, value);
  }

  byCode(name: string, help: string, labels: Labels, counts: Readonly<Record<string, number>>): void {
    this.family(name, 'counter', help);
    for (const [code, n] of Object.entries(counts).sort()) this.sample(name, { ...labels, code }, n);
  }

  /**
   * A Prometheus histogram (seconds) from an actors/histogram.ts snapshot (ms): each of its
   * buckets (~3% wide) is counted under the first bound at or above its upper end, so counts
   * are exact to that width; the sum adds each bucket's upper end (capped at the max), an
   * over-estimate by at most ~3%.
   */
  histogram(
    name: string,
    help: string,
    labels: Labels,
    json: HistogramJSON,
    boundsSeconds: readonly number[],
  ): void {
    this.family(name, 'histogram', help);
    const counts = boundsSeconds.map(() => 0);
    let sumMs = 0;
    for (const [index, n] of json.buckets) {
      // The bucket's upper end, through the histogram's own public API: one value in it, max unset.
      const upperMs = Histogram.from({
        buckets: [[index, 1]],
        count: 1,
        max: Number.POSITIVE_INFINITY,
      }).quantile(1);
      sumMs += n * Math.min(upperMs, json.max);
      const at = boundsSeconds.findIndex((le) => upperMs <= le * 1000);
      if (at >= 0) counts[at] = (counts[at] ?? 0) + n;
    }
    let cumulative = 0;
    const buckets = boundsSeconds.map((le, i): [number, number] => {
      cumulative += counts[i] ?? 0;
      return [le, cumulative];
    });
    this.#buckets(name, labels, { cumulative: buckets, count: json.count, sum: sumMs / 1000 });
  }

  /** A Prometheus histogram already bucketed: `[le, observations ≤ le]` per bound, cumulative. */
  cumulativeHistogram(name: string, help: string, labels: Labels, h: CumulativeBuckets): void {
    this.family(name, 'histogram', help);
    this.#buckets(name, labels, h);
  }

  #buckets(name: string, labels: Labels, h: CumulativeBuckets): void {
    for (const [le, n] of h.cumulative) this.sample(`${name}_bucket`, { ...labels, le: String(le) }, n);
    this.sample(`${name}_bucket`, { ...labels, le: '+Inf' }, h.count);
    this.sample(`${name}_sum`, labels, h.sum);
    this.sample(`${name}_count`, labels, h.count);
  }

  /**
   * This process's CPU time, resident memory and start time under prom-client's default names
   * (the gateways' carry a prefix), unlabelled: the scrape's job and instance say whose.
   */
  processUsage(usage: ProcessUsage = processUsage()): void {
    this.counter(
      'process_cpu_seconds_total',
      'User and system CPU time spent, seconds',
      {},
      usage.cpuMicros / 1e6,
    );
    this.gauge('process_resident_memory_bytes', 'Resident memory size, bytes', {}, usage.rssBytes);
    this.gauge(
      'process_start_time_seconds',
      'Start time of the process since unix epoch, seconds',
      {},
      usage.startSeconds,
    );
  }

  text(): string {
    return `${this.#lines.join('\n')}\n`;
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}
