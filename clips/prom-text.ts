/**
 * Prometheus text exposition (0.0.4) for the clip workers' /metrics (clips/metrics.ts): one
 * HELP/TYPE per family, escaped label values, counters by code, and a Prometheus histogram
 * (seconds) from an actors/histogram.ts snapshot (ms).
 */
import { Histogram, type HistogramJSON } from '../actors/mod.ts';

type Labels = Readonly<Record<string, string>>;

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
    boundsSeconds.forEach((le, i) => {
      cumulative += counts[i] ?? 0;
      this.sample(`${name}_bucket`, { ...labels, le: String(le) }, cumulative);
    });
    this.sample(`${name}_bucket`, { ...labels, le: '+Inf' }, json.count);
    this.sample(`${name}_sum`, labels, sumMs / 1000);
    this.sample(`${name}_count`, labels, json.count);
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
