/**
 * `alert`: an operator's alert rule end to end. The monitoring stack (infra/monitoring.ts:
 * Prometheus, Alertmanager, node_exporter; the cluster's settings: 5 s scrapes, 10 s group wait)
 * and a `devicehub gateway` process; the rule is created through POST /v1/alert-rules (promtool,
 * operator.yml, Prometheus reloaded), then one core is held busy by a bounded busy loop (a child
 * process that opens no socket and ends by itself). Measured from the busy start: until Prometheus
 * says the alert fires, and until its `server.alert` (firing) arrives on the gateway's /v1/events
 * WebSocket — what the dashboard reads — after Alertmanager's webhook and the outbox.
 *
 * The rule watches the host's CPU (busy share > --threshold, default 0.5, for 10 s). On a host
 * already busier than that before the loop starts (a shared machine), such a rule would fire
 * without it, so the rule watches the loop's own CPU instead (its /proc counters, served on
 * loopback for Prometheus to scrape) — the same path from the rule on; the result says which.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { openPrometheus, type PrometheusClient } from '../../gateway/monitoring/mod.ts';
import { freePort, startMonitoring, waitFor } from '../../infra/mod.ts';
import { startBenchCluster } from '../cluster.ts';
import { registeredFleet } from '../fleet.ts';
import { processCpuMicros } from '../proc-cpu.ts';
import type { Target } from '../report.ts';
import type { ScenarioOptions, ScenarioResult } from './common.ts';
import { sleep } from './common.ts';

export interface AlertOptions {
  /** The host rule's threshold: busy share of all cores (default 0.5). */
  readonly threshold: number;
  /** The rule's `for` (default 10 s). */
  readonly forSeconds: number;
  /** How long the busy loop runs at most (default 120 s). */
  readonly busySeconds: number;
}

export function alertOptions(values: Record<string, string | boolean | undefined>): AlertOptions {
  const n = (k: string, d: number) => {
    const v = typeof values[k] === 'string' ? Number(values[k]) : d;
    if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`--${k} must be a number > 0, got ${values[k]}`);
    return v;
  };
  return {
    threshold: n('threshold', 0.5),
    forSeconds: n('for-seconds', 10),
    busySeconds: n('busy-seconds', 120),
  };
}

const RULE = 'BenchCpuBusy';
const HOST_BUSY = '1 - avg(rate(node_cpu_seconds_total{mode="idle"}[20s]))';
const LOOP_BUSY = 'rate(devicehub_bench_busy_cpu_seconds_total[20s])';
/** The loop's rule fires at this share of a core: any loop that runs at all. */
const LOOP_THRESHOLD = 0.05;

export async function alertScenario(_o: ScenarioOptions, ao: AlertOptions): Promise<ScenarioResult> {
  const phase = (text: string) => process.stderr.write(`[alert] ${text}\n`);
  const rulesDir = mkdtempSync(join(tmpdir(), 'dh-bench-rules-'));
  const token = randomBytes(24).toString('base64url');
  const [prometheusPort, alertmanagerPort] = await Promise.all([freePort(), freePort()]);
  const prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
  // The busy loop's CPU, for Prometheus (0 until it starts).
  let loopPid: number | undefined;
  const loopMetrics = createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(
      `# TYPE devicehub_bench_busy_cpu_seconds_total counter\ndevicehub_bench_busy_cpu_seconds_total ${processCpuMicros(loopPid) / 1e6}\n`,
    );
  });
  await new Promise<void>((resolve) => loopMetrics.listen(0, '127.0.0.1', resolve));
  const loopTarget = `127.0.0.1:${(loopMetrics.address() as AddressInfo).port}`;
  let loop: ReturnType<typeof spawn> | undefined;
  let ws: WebSocket | undefined;
  try {
    await using cluster = await startBenchCluster();
    const fleet = registeredFleet(cluster, 0);
    const gateway = await cluster.startGateway(
      [
        ...['--prometheus-url', prometheusUrl],
        ...['--prometheus-rules-dir', rulesDir],
        ...['--alertmanager-url', `http://127.0.0.1:${alertmanagerPort}`],
      ],
      fleet.prepare,
      { DEVICEHUB_ALERT_WEBHOOK_TOKEN: token },
    );
    phase('starting Prometheus, Alertmanager and node_exporter');
    await using _monitoring = await startMonitoring({
      jobs: [
        { name: 'devicehub-gateways', targets: [new URL(gateway.url).host] },
        { name: 'bench-busy', targets: [loopTarget] },
      ],
      rulesDir,
      prometheusPort,
      alertmanagerPort,
      scrapeInterval: '5s',
      alerts: {
        webhookUrl: `${gateway.url}/v1/monitoring/alertmanager`,
        bearerToken: token,
        groupWait: '10s',
        groupInterval: '1m',
        repeatInterval: '1h',
      },
    });
    const prometheus = openPrometheus(prometheusUrl);
    const promQuery = async (q: string) => (await prometheus.query(q))[0]?.value;
    phase('measuring the host CPU before the loop');
    await waitFor(async () => (await promQuery(HOST_BUSY)) !== undefined, {
      timeoutMs: 60_000,
      intervalMs: 1000,
      message: 'node_exporter scraped twice',
    });
    await sleep(10_000);
    const hostBusyBefore = (await promQuery(HOST_BUSY)) ?? 1;
    const onHost = hostBusyBefore < ao.threshold - 0.15;
    const rule = {
      name: RULE,
      metric: onHost ? HOST_BUSY : LOOP_BUSY,
      op: '>',
      threshold: onHost ? ao.threshold : LOOP_THRESHOLD,
      forSeconds: ao.forSeconds,
      severity: 'warning',
      summary: onHost ? 'CPU busy (bench)' : 'The bench busy loop is running',
    };
    phase(
      `host CPU busy ${hostBusyBefore.toFixed(2)} before the loop: the rule watches ${onHost ? 'the host' : 'the loop (the host is busier than the threshold already)'}`,
    );
    const headers = { authorization: `Bearer ${fleet.key()}`, 'content-type': 'application/json' };
    const created = await fetch(`${gateway.url}/v1/alert-rules`, {
      method: 'POST',
      headers,
      body: JSON.stringify(rule),
    });
    if (created.status !== 201)
      throw new Error(`POST /v1/alert-rules: ${created.status} ${await created.text()}`);
    await waitFor(async () => (await alertState(prometheus)) === 'inactive', {
      timeoutMs: 60_000,
      intervalMs: 500,
      message: 'the rule loaded by Prometheus and not firing',
    });
    // The dashboard's feed.
    const events: { type: string; status?: string; alertname?: string; at: number }[] = [];
    ws = new WebSocket(`${gateway.url.replace('http', 'ws')}/v1/events`, {
      headers: { authorization: headers.authorization },
    });
    await new Promise<void>((resolve, reject) => {
      ws!.on('message', (data) => {
        const m = JSON.parse(String(data)) as { type: string; status?: string; alertname?: string };
        if (m.type === 'ready') resolve();
        else events.push({ ...m, at: Date.now() });
      });
      ws!.once('error', reject);
    });

    phase(`holding one core busy (at most ${ao.busySeconds} s)`);
    const busyStart = Date.now();
    loop = spawn(
      process.execPath,
      ['-e', `const end = Date.now() + ${ao.busySeconds * 1000}; while (Date.now() < end) {}`],
      {
        stdio: 'ignore',
      },
    );
    loopPid = loop.pid;
    let firingAt: number | undefined;
    const fired = await waitFor(
      async () => {
        if (firingAt === undefined && (await alertState(prometheus).catch(() => '')) === 'firing')
          firingAt = Date.now();
        return events.find((e) => e.type === 'server.alert' && e.status === 'firing' && e.alertname === RULE);
      },
      { timeoutMs: (ao.busySeconds + 30) * 1000, intervalMs: 250, message: 'server.alert on /v1/events' },
    ).catch(() => undefined);
    const result = {
      scenario: 'alert',
      rule: `${rule.metric} ${rule.op} ${rule.threshold} for ${rule.forSeconds}s`,
      ruleWatches: onHost ? 'host' : 'busy-loop',
      hostBusyBefore: Number(hostBusyBefore.toFixed(3)),
      scrapeIntervalSeconds: 5,
      groupWaitSeconds: 10,
      prometheusFiringMs: firingAt === undefined ? -1 : firingAt - busyStart,
      alertFiredMs: fired === undefined ? -1 : fired.at - busyStart,
    };
    const targets: Target[] = [
      {
        metric: 'Prometheus firing (ms from busy start)',
        value: result.prometheusFiringMs,
        target: '—',
        met: firingAt !== undefined,
      },
      {
        metric: 'alertFiredMs (busy start → /v1/events)',
        value: result.alertFiredMs,
        target: '< 60000',
        met: fired !== undefined && result.alertFiredMs < 60_000,
      },
      {
        metric: 'host CPU busy before the loop',
        value: result.hostBusyBefore,
        target: `< ${(ao.threshold - 0.15).toFixed(2)}: the rule watches the host, else the loop`,
        met: true,
      },
    ];
    return { result, targets, plot: { xLabel: 'seconds', x: [], charts: [] } };
  } finally {
    ws?.close();
    loop?.kill('SIGKILL');
    loopMetrics.close();
    rmSync(rulesDir, { recursive: true, force: true });
  }
}

/** The bench rule's state in Prometheus: inactive, pending or firing ('' when not loaded). */
async function alertState(prometheus: PrometheusClient): Promise<string> {
  const groups = await prometheus.alertRuleGroups();
  if (!groups.some((g) => g.alerts.includes(RULE))) return '';
  const alerts = (await prometheus.alerts()).filter((a) => a.labels.alertname === RULE);
  return alerts.find((a) => a.state === 'firing')?.state ?? alerts[0]?.state ?? 'inactive';
}
