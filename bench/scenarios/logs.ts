/**
 * `logs`: edges' and hub processes' log lines into VictoriaLogs, each part its own process: the
 * simulator (N edges, each its own MQTT connection, sending its telemetry and, from the second
 * phase, a batch of log lines every few seconds, edge/sim/sim-logs.ts) → mosquitto →
 * `devicehub link mqtt` (telemetry to Redis and the hub node; log lines into its LogShipper) →
 * VictoriaLogs; the node and the link log at info and ship their own lines too
 * (DEVICEHUB_LOG_STORE).
 *
 * Phases: telemetry alone (the baseline p99), logs at 1 line/s/edge, a burst at 10×, then the
 * store stopped for `storeDownSeconds` and started again on the same port and data, and a while
 * after. The simulator stops, the shippers drain, and the store is asked how many of the run's
 * lines it holds (`| stats count(), count_uniq(_msg)` on the run's word): lost = acknowledged by
 * the broker − distinct lines stored; duplicated = stored − distinct (the shipper is at least once).
 * Ship → queryable is measured on marker lines (about 2 a second fleet-wide) polled for 4× a
 * second; CPU per line from /proc and the nodes' own counters.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DevicehubProcess, spawnDevicehub, startVictoriaLogs, waitFor } from '../../infra/mod.ts';
import { type BenchCluster, startBenchCluster } from '../cluster.ts';
import { countByService, countDistinct, MarkerPoller } from '../logs-probe.ts';
import { Monitor, type Window, windowBetween } from '../monitor.ts';
import { processCpuMicros } from '../proc-cpu.ts';
import type { ScenarioOptions, ScenarioResult } from './common.ts';
import { sleep } from './common.ts';
import { startBroker } from './ingest.ts';
import { type LogsMeasured, logsReport } from './logs-report.ts';

export interface LogsOptions {
  /** Seconds VictoriaLogs is stopped mid-run (default 60). */
  readonly storeDownSeconds: number;
  /** Seconds of the 10× burst (default 20). */
  readonly burstSeconds: number;
  /** Lines a second per edge at 1× (default 1). */
  readonly linesPerSecond: number;
  /** An edge's batch every this many seconds (default 5). */
  readonly batchSeconds: number;
  /** The telemetry the edges send meanwhile (default compact: the agent's). */
  readonly workload: 'compact' | 'legacy';
  /** Seconds after the store is back before the simulator stops (default 20). */
  readonly afterSeconds: number;
  /** How long to wait for the store to hold every line after the simulator stops (default 120). */
  readonly drainSeconds?: number;
}

const num = (v: string | undefined, fallback: number, name: string) => {
  const n = v === undefined ? fallback : Number(v);
  if (!(Number.isFinite(n) && n >= 0)) throw new RangeError(`--${name} must be a number ≥ 0, got ${v}`);
  return n;
};

export function logsOptions(values: Record<string, string | boolean | undefined>): LogsOptions {
  const s = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const workload = s('log-workload') ?? 'compact';
  if (workload !== 'compact' && workload !== 'legacy')
    throw new RangeError(`--log-workload must be compact or legacy, got ${JSON.stringify(workload)}`);
  return {
    storeDownSeconds: num(s('store-down-seconds'), 60, 'store-down-seconds'),
    burstSeconds: num(s('burst-seconds'), 20, 'burst-seconds'),
    linesPerSecond: num(s('lines-per-second'), 1, 'lines-per-second') || 1,
    batchSeconds: num(s('batch-seconds'), 5, 'batch-seconds') || 5,
    workload,
    afterSeconds: num(s('after-seconds'), 20, 'after-seconds'),
  };
}

interface SimReport {
  connected?: number;
  sent?: number;
  logLines?: number;
  logErrors?: number;
  logMarkers?: number;
  behindMs?: number;
  done?: boolean;
}

export async function logsScenario(o: ScenarioOptions, lo: LogsOptions): Promise<ScenarioResult> {
  const runId = `r${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const bufferDir = mkdtempSync(join(tmpdir(), 'dh-bench-logbuf-'));
  let store = await startVictoriaLogs({ retention: '1d' });
  const { dataDir, port } = store;
  const storeCpu = { before: 0 };
  // Every hub process (nodes and the link) ships its own lines (info level) to the store.
  const shipEnv = {
    DEVICEHUB_LOG_STORE: store.url,
    DEVICEHUB_LOG_BUFFER_DIR: bufferDir,
    DH_LOG_LEVEL: 'info',
  };
  try {
    await using cluster = await startBenchCluster({ logLevel: 'info', nodeEnv: shipEnv });
    for (let i = 1; i <= o.nodes; i++) await cluster.startNode(`node-${i}`);
    await using broker = await startBroker('mqtt', { edges: o.edges, tls: false });
    const link = spawnDevicehub(
      [
        'link',
        'mqtt',
        ...cluster.cliArgs,
        ...broker.linkArgs,
        '--entry-time',
        'device',
        '--client-id',
        'bench-link-1',
      ],
      { name: 'link', env: shipEnv },
    );
    await using _link = link;
    await link.ready;
    const sim = startSimulator(o, lo, runId, broker.simArgs);
    await using _sim = sim.process;
    const monitor = new Monitor(
      'logs',
      () => cluster.stats(),
      () => sim.last().logLines ?? 0,
    );
    await waitFor(() => sim.last().connected === o.edges, {
      timeoutMs: 120_000,
      intervalMs: 200,
      message: `${o.edges} simulated edges to connect`,
    });
    const poller = new MarkerPoller(store.url, `mk${runId}`).start();
    const warmup = Math.min(5, Math.max(2, Math.floor(o.seconds / 5)));
    monitor.start(warmup + 2 * o.seconds + lo.burstSeconds + lo.storeDownSeconds + lo.afterSeconds);
    await sleep(warmup * 1000);
    const phase = (text: string) => process.stderr.write(`\n[logs] ${text}\n`);
    const window = (seconds: number) => measure(cluster, link, sim, seconds);

    phase(`baseline: telemetry alone for ${o.seconds} s`);
    const baseline = await window(o.seconds);
    phase(`logs at ${lo.linesPerSecond} line/s per edge for ${o.seconds} s`);
    sim.process.child.send({ logFactor: 1 });
    const steadyAt = Date.now();
    const steady = await window(o.seconds);
    phase(`burst: 10× for ${lo.burstSeconds} s`);
    sim.process.child.send({ logFactor: 10 });
    const burstAt = Date.now();
    const burst = await window(lo.burstSeconds);
    sim.process.child.send({ logFactor: 1 });
    const burstEndAt = Date.now();
    // The outage starts once the burst's backlog is queryable (every marker sent so far seen), so
    // that what the burst left queued does not wait through it too.
    const markersSoFar = sim.last().logMarkers ?? 0;
    await waitFor(() => poller.sightings.size >= markersSoFar, {
      timeoutMs: 180_000,
      intervalMs: 250,
      message: 'the burst backlog queryable',
    }).catch(() => {});
    const backlogClearedMs = Date.now() - burstEndAt;
    phase(`the burst's lines queryable ${(backlogClearedMs / 1000).toFixed(1)} s after its end`);
    await sleep(Math.min(5000, lo.burstSeconds * 1000));

    phase(`the store stopped for ${lo.storeDownSeconds} s`);
    storeCpu.before = processCpuMicros(store.pid);
    const downAt = Date.now();
    await store.stop();
    await sleep(lo.storeDownSeconds * 1000);
    store = await startVictoriaLogs({ dataDir, port, retention: '1d' });
    const upAt = Date.now();
    phase(`the store is back; ${lo.afterSeconds} s more`);
    await sleep(lo.afterSeconds * 1000);

    const final = await stopSimulator(sim);
    const linesSent = final.logLines ?? 0;
    phase(
      `simulator stopped: ${linesSent} lines acknowledged by the broker; waiting for the store to hold them`,
    );
    const drainStart = Date.now();
    let counted = { rows: 0, distinct: 0 };
    await waitFor(
      async () => {
        counted = await countDistinct(store.url, `"${runId}"`).catch(() => counted);
        return counted.distinct >= linesSent && poller.sightings.size >= (final.logMarkers ?? 0);
      },
      {
        timeoutMs: (lo.drainSeconds ?? 120) * 1000,
        intervalMs: 1000,
        message: 'the store to hold every line',
      },
    ).catch(() => {});
    const drainMs = Date.now() - drainStart;
    poller.stop();
    monitor.stop();
    const byService = await countByService(store.url);
    const { rows: linesStored, distinct: linesDistinct } = await countDistinct(store.url, `"${runId}"`);
    const storeCpuMicros = storeCpu.before + processCpuMicros(store.pid);
    const measured: LogsMeasured = {
      runId,
      linesSent,
      linesStored,
      linesDistinct,
      logErrors: final.logErrors ?? 0,
      markersSent: final.logMarkers ?? 0,
      sightings: [...poller.sightings.values()],
      steadyAt,
      burstAt,
      burstEndAt,
      backlogClearedMs,
      downAt,
      upAt,
      drainMs,
      byService,
      storeCpuMicros,
      baseline,
      steady,
      burst,
      behindMs: sim.maxBehindMs(),
    };
    return { ...logsReport(o, lo, measured), plot: plotOf(monitor) };
  } finally {
    await store.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(bufferDir, { recursive: true, force: true });
  }
}

/** A measured window: the nodes' counters (telemetry handled, its latency, their CPU), the link's CPU, lines sent. */
export interface LogsWindow {
  readonly w: Window;
  readonly linkMicros: number;
  readonly lines: number;
}

async function measure(
  cluster: BenchCluster,
  link: DevicehubProcess,
  sim: Simulator,
  seconds: number,
): Promise<LogsWindow> {
  const [before, linkBefore, linesBefore] = [
    await cluster.stats(),
    processCpuMicros(link.child.pid),
    sim.last().logLines ?? 0,
  ];
  await sleep(seconds * 1000);
  const [after, linkAfter, linesAfter] = [
    await cluster.stats(),
    processCpuMicros(link.child.pid),
    sim.last().logLines ?? 0,
  ];
  return {
    w: windowBetween(before, after),
    linkMicros: linkAfter - linkBefore,
    lines: linesAfter - linesBefore,
  };
}

type Simulator = ReturnType<typeof startSimulator>;

/** `devicehub simulate --report-json` with log lines, quiet until told ({logFactor} over IPC). */
function startSimulator(o: ScenarioOptions, lo: LogsOptions, runId: string, simArgs: string[]) {
  let last: SimReport = {};
  let maxBehindMs = 0;
  const args = [
    'simulate',
    '--transport',
    'mqtt',
    '--workload',
    lo.workload,
    '--edges',
    String(o.edges),
    '--log-lines-per-second',
    String(lo.linesPerSecond),
    '--log-batch-seconds',
    String(lo.batchSeconds),
    '--log-run',
    runId,
    '--log-factor',
    '0',
    ...simArgs,
    '--report-json',
  ];
  const child = spawnDevicehub(args, {
    name: 'simulator',
    env: { DH_LOG_LEVEL: 'warn', DEVICEHUB_LOG_STORE: '' },
    onLog: (line) => {
      if (typeof line.sent !== 'number') return;
      last = line as SimReport;
      maxBehindMs = Math.max(maxBehindMs, last.behindMs ?? 0);
    },
  });
  return { process: child, last: () => last, maxBehindMs: () => maxBehindMs };
}

async function stopSimulator(sim: Simulator): Promise<SimReport> {
  sim.process.child.kill('SIGTERM');
  await waitFor(() => sim.last().done === true, {
    timeoutMs: 30_000,
    message: 'the simulator to report its totals',
  });
  return sim.last();
}

/** Telemetry handled/s and its p99 per second, and log lines sent per second. */
function plotOf(monitor: Monitor) {
  const base = monitor.plot();
  const s = monitor.samples;
  const linesPerSec = s.map((x, i) => (i === 0 ? 0 : Math.max(0, x.sent - s[i - 1]!.sent)));
  return { ...base, charts: [...base.charts, { label: 'log lines sent/s', values: linesPerSec }] };
}
