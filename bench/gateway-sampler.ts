/**
 * What the gateway itself went through, second by second, while a benchmark loads it: its
 * event-loop delay (prom-client's default metrics: max and p99 since the last scrape, which
 * resets them) and the time it spent in garbage collection per kind (the growth of
 * `nodejs_gc_duration_seconds_sum`), with its heap. Put beside a latency series of the same
 * seconds, it says whether a slow second was the gateway's (its loop stalled, and on what) or
 * the load generator's, which shares the cores.
 */
import { httpClient } from './http-client.ts';
import { promSamples, promValue } from './prom-samples.ts';

const PREFIX = 'devicehub_gateway_';

/** One second of the gateway. */
export interface GatewaySecond {
  /** The longest event-loop delay of the second (ms). */
  readonly loopMaxMs: number;
  /** Milliseconds of garbage collection in the second, per kind (major, minor, incremental, weakcb). */
  readonly gcMs: Readonly<Record<string, number>>;
  readonly heapUsedMb: number;
  /** Cores the gateway process used in the second (user + system CPU seconds per second). */
  readonly cpuCores: number;
}

export interface GatewaySampler {
  /** Stops sampling; the seconds sampled, oldest first. */
  stop(): Promise<GatewaySecond[]>;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/** Scrapes the gateway at `url` every `everyMs` (default 1000) until stopped. */
export function sampleGateway(url: string, everyMs = 1000): GatewaySampler {
  const http = httpClient(url, 1);
  const seconds: GatewaySecond[] = [];
  let gcBefore: Map<string, number> | undefined;
  let cpuBefore = { seconds: 0, at: 0 };
  let stopped = false;
  const scrape = async () => {
    const reply = await http.send('GET', '/metrics', { timeoutMs: 10_000 });
    if (reply.status !== 200) throw new Error(`gateway /metrics answered ${reply.status}`);
    const gc = new Map(
      promSamples(reply.body, `${PREFIX}nodejs_gc_duration_seconds_sum`).map((s) => [
        s.labels.kind ?? '',
        s.value,
      ]),
    );
    const first = gcBefore === undefined;
    const gcMs: Record<string, number> = {};
    for (const [kind, total] of gc) gcMs[kind] = round((total - (gcBefore?.get(kind) ?? 0)) * 1000);
    gcBefore = gc;
    const one = (name: string) => promValue(reply.body, `${PREFIX}${name}`);
    const cpu = { seconds: one('process_cpu_seconds_total'), at: performance.now() };
    const cpuCores = (cpu.seconds - cpuBefore.seconds) / ((cpu.at - cpuBefore.at) / 1000);
    cpuBefore = cpu;
    // The first scrape only sets the baselines (its lag covers everything before it).
    if (first) return;
    seconds.push({
      loopMaxMs: round(one('nodejs_eventloop_lag_max_seconds') * 1000),
      gcMs,
      heapUsedMb: Math.round(one('nodejs_heap_size_used_bytes') / 1e6),
      cpuCores: Math.round(cpuCores * 1000) / 1000,
    });
  };
  // A failed scrape ends the sampling; stop() throws it (never an unhandled rejection before then).
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      await scrape();
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, everyMs - (Date.now() - started))));
    }
  })().then(
    () => undefined,
    (error: unknown) => error,
  );
  return {
    async stop() {
      stopped = true;
      const failed = await loop;
      http.close();
      if (failed !== undefined) throw failed;
      return seconds;
    },
  };
}
