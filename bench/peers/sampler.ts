/**
 * Once a second, what a system's workers applied since the last look and its latency: from hub
 * node stats (DeviceHub) or the workers' own lines (BullMQ, Kafka). Each worker instance is known
 * by its pid, so a worker killed and started again counts from zero without a negative step.
 */
import { Histogram, type HistogramJSON, histogramDelta } from '../../actors/mod.ts';

/** One worker instance's cumulative counters. */
export interface WorkerSnapshot {
  readonly id: string;
  readonly handled: number;
  readonly latencyMs: HistogramJSON;
}

export interface Second {
  /** Seconds since the sampler started. */
  readonly t: number;
  readonly handled: number;
  readonly latency: HistogramJSON;
}

export class Sampler {
  readonly seconds: Second[] = [];
  readonly #read: () => Promise<WorkerSnapshot[]>;
  readonly #label: string;
  readonly #start = Date.now();
  readonly #last = new Map<string, WorkerSnapshot>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(label: string, read: () => Promise<WorkerSnapshot[]>) {
    this.#label = label;
    this.#read = read;
  }

  start(): void {
    this.#timer = setInterval(() => void this.#sample().catch(() => {}), 1000);
  }

  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    process.stderr.write('\n');
  }

  /** Seconds since start, now. */
  now(): number {
    return (Date.now() - this.#start) / 1000;
  }

  /** Messages and latency over the seconds sampled in (from, to]. */
  between(from: number, to: number): { handled: number; latency: Histogram } {
    const latency = new Histogram();
    let handled = 0;
    for (const s of this.seconds) {
      if (s.t <= from || s.t > to) continue;
      handled += s.handled;
      latency.merge(s.latency);
    }
    return { handled, latency };
  }

  async #sample(): Promise<void> {
    const snapshots = await this.#read();
    let handled = 0;
    const latency = new Histogram();
    for (const s of snapshots) {
      const before = this.#last.get(s.id);
      handled += s.handled - (before?.handled ?? 0);
      latency.merge(histogramDelta(s.latencyMs, before?.latencyMs));
      this.#last.set(s.id, s);
    }
    const t = this.now();
    this.seconds.push({ t, handled, latency: latency.toJSON() });
    process.stderr.write(
      `\r[peers ${this.#label}] ${t.toFixed(0)} s  applied ${handled.toLocaleString('en')}/s  p99 ${latency.quantile(0.99).toFixed(1)} ms  workers ${snapshots.length}   `,
    );
  }
}
