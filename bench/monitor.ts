/**
 * Samples the hub nodes' published stats once a second: handled messages per second and the
 * window's p99 latency (for the progress line and the plot), and totals between two marks.
 */
import { Histogram, type HistogramJSON, histogramDelta, type NodeStats } from '../actors/mod.ts';
import type { Plot } from './report.ts';

export interface Sample {
  readonly t: number;
  readonly msgsPerSec: number;
  readonly p99Ms: number;
  readonly sent: number;
}

export interface Window {
  readonly handled: number;
  readonly cpuMicros: number;
  readonly seconds: number;
  readonly latency: Histogram;
}

export class Monitor {
  readonly samples: Sample[] = [];
  readonly #read: () => Promise<NodeStats[]>;
  readonly #sent: () => number;
  readonly #label: string;
  readonly #start = Date.now();
  #last = new Map<string, NodeStats>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(label: string, read: () => Promise<NodeStats[]>, sent: () => number) {
    this.#label = label;
    this.#read = read;
    this.#sent = sent;
  }

  start(totalSeconds: number): void {
    this.#timer = setInterval(() => void this.#sample(totalSeconds).catch(() => {}), 1000);
  }

  /** Throughput and p99 latency per second, for the report's plot. */
  plot(): Plot {
    return {
      xLabel: 'seconds',
      x: this.samples.map((s) => s.t),
      charts: [
        { label: 'handled msg/s', values: this.samples.map((s) => s.msgsPerSec) },
        { label: 'p99 latency, ms (per second)', values: this.samples.map((s) => s.p99Ms) },
      ],
    };
  }

  stop(): void {
    clearInterval(this.#timer);
    process.stderr.write('\n');
  }

  async #sample(totalSeconds: number): Promise<void> {
    const stats = await this.#read();
    let handled = 0;
    const latency = new Histogram();
    for (const s of stats) {
      const prev = this.#last.get(s.node);
      if (prev !== undefined && prev.pid !== s.pid) this.#last.delete(s.node);
      const before = this.#last.get(s.node);
      if (before !== undefined && s.at === before.at) continue; // stale: node gone
      handled += s.handled - (before?.handled ?? 0);
      latency.merge(histogramDelta(s.latencyMs, before?.latencyMs));
      this.#last.set(s.node, s);
    }
    const t = (Date.now() - this.#start) / 1000;
    const sample = { t, msgsPerSec: handled, p99Ms: latency.quantile(0.99), sent: this.#sent() };
    this.samples.push(sample);
    process.stderr.write(
      `\r[${this.#label}] ${t.toFixed(0)}/${totalSeconds}s  sent ${sample.sent.toLocaleString('en')}  handled ${handled.toLocaleString('en')}/s  p99 ${sample.p99Ms.toFixed(1)} ms  nodes ${stats.length}   `,
    );
  }
}

/** Totals between two snapshots of every node's stats (nodes present in both). */
export function windowBetween(before: NodeStats[], after: NodeStats[]): Window {
  const start = new Map(before.map((s) => [s.node, s]));
  let handled = 0;
  let cpuMicros = 0;
  let seconds = 0;
  const latency = new Histogram();
  for (const s of after) {
    const b = start.get(s.node);
    if (b === undefined || b.pid !== s.pid) continue;
    handled += s.handled - b.handled;
    cpuMicros += s.cpuMicros - b.cpuMicros;
    seconds = Math.max(seconds, (s.at - b.at) / 1000);
    latency.merge(histogramDelta(s.latencyMs, b.latencyMs as HistogramJSON));
  }
  return { handled, cpuMicros, seconds, latency };
}
