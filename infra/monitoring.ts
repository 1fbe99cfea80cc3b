/**
 * The monitoring stack the demo and `npm run cluster` run beside the hub, all started at once:
 * node_exporter (this host), redis_exporter, postgres_exporter (when there is a PostgreSQL),
 * Alertmanager routing to the gateway's webhook, and Prometheus scraping them, itself,
 * Alertmanager and the hub's own /metrics jobs, its rules from `rulesDir`. The ports of Prometheus
 * and Alertmanager may be chosen first (`planMonitoring`) so that the gateways are told their URLs
 * before the stack is up. Job names are docker-compose's (deploy/prometheus/prometheus.yml).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type AlertmanagerServer, startAlertmanager } from './alertmanager.ts';
import type { AlertmanagerConfigOptions } from './alertmanager-config.ts';
import {
  type ExporterServer,
  startNodeExporter,
  startPostgresExporter,
  startRedisExporter,
} from './exporters.ts';
import { freePort } from './free-port.ts';
import { claimPortBlock } from './port-block.ts';
import { type PrometheusServer, startPrometheus } from './prometheus.ts';
import type { ScrapeJob } from './prometheus-config.ts';

/** The scrape jobs' names, as in deploy/prometheus/prometheus.yml. */
export const MONITORING_JOBS = {
  nodes: 'devicehub-nodes',
  gateways: 'devicehub-gateways',
  clips: 'devicehub-clips',
  recognize: 'devicehub-recognize',
  links: 'devicehub-links',
  logStore: 'victorialogs',
  host: 'node',
  redis: 'redis',
  postgres: 'postgres',
  alertmanager: 'alertmanager',
  prometheus: 'prometheus',
} as const;

/**
 * What the gateways are told before the stack runs: Prometheus' and Alertmanager's ports (free
 * now) and URLs, the rules folder (created), and a webhook token new for the run.
 */
export interface MonitoringPlan {
  readonly prometheusPort: number;
  readonly alertmanagerPort: number;
  readonly prometheusUrl: string;
  readonly alertmanagerUrl: string;
  readonly rulesDir: string;
  /** The bearer token Alertmanager presents to the gateway's webhook. */
  readonly webhookToken: string;
}

export async function planMonitoring(rulesDir: string): Promise<MonitoringPlan> {
  // From a port block (below the ephemeral range, locked for this process until it exits), not
  // `freePort`: the gateways start between the plan and the stack, and a planned ephemeral port
  // was taken meanwhile once in CI (Prometheus: `bind: address already in use`, the demo failed).
  const block = await claimPortBlock();
  const [prometheusPort, alertmanagerPort] = [block.low, block.low + 1];
  mkdirSync(rulesDir, { recursive: true });
  return {
    prometheusPort,
    alertmanagerPort,
    prometheusUrl: `http://127.0.0.1:${prometheusPort}`,
    alertmanagerUrl: `http://127.0.0.1:${alertmanagerPort}`,
    rulesDir,
    webhookToken: randomBytes(24).toString('base64url'),
  };
}

/** The hub's processes by kind, each as its /metrics URL (`http://127.0.0.1:9464/metrics`). */
export interface HubMetricsUrls {
  readonly nodes: readonly string[];
  /** Scraped over HTTPS, their certificate checked against `caFile`. */
  readonly gateways: readonly string[];
  readonly caFile: string;
  readonly links: readonly string[];
  readonly clips: readonly string[];
  readonly recognize: readonly string[];
  /** VictoriaLogs (its own /metrics). */
  readonly logStore: string | undefined;
}

/** One scrape job per kind of hub process that has any, named as in docker-compose. */
export function hubScrapeJobs(m: HubMetricsUrls): ScrapeJob[] {
  const job = (name: string, urls: readonly string[], more: Partial<ScrapeJob> = {}): ScrapeJob[] =>
    urls.length === 0 ? [] : [{ name, targets: urls.map((url) => new URL(url).host), ...more }];
  return [
    ...job(MONITORING_JOBS.nodes, m.nodes),
    ...job(MONITORING_JOBS.gateways, m.gateways, { scheme: 'https', caFile: m.caFile }),
    ...job(MONITORING_JOBS.links, m.links),
    ...job(MONITORING_JOBS.clips, m.clips),
    ...job(MONITORING_JOBS.recognize, m.recognize),
    ...job(MONITORING_JOBS.logStore, m.logStore === undefined ? [] : [m.logStore]),
  ];
}

/**
 * Alertmanager's route to the gateway (or balanced API) at `apiUrl`: its webhook, the plan's
 * token, the CA of its certificate; a group's first notification after 10 s, its changes after
 * 1 min, repeated hourly.
 */
export function gatewayAlerts(
  apiUrl: string,
  plan: MonitoringPlan,
  caFile: string,
): AlertmanagerConfigOptions {
  return {
    webhookUrl: `${apiUrl}/v1/monitoring/alertmanager`,
    bearerToken: plan.webhookToken,
    caFile,
    groupWait: '10s',
    groupInterval: '1m',
    repeatInterval: '1h',
  };
}

export interface MonitoringOptions {
  /** The hub's own /metrics jobs (nodes, gateways, workers). */
  readonly jobs: readonly ScrapeJob[];
  /** The folder of rule files Prometheus loads (the gateway writes `operator.yml` there). */
  readonly rulesDir: string;
  /** Alertmanager's route: the gateway's webhook, its token, the CA of its certificate, grouping. */
  readonly alerts: AlertmanagerConfigOptions;
  readonly redisUrl?: string;
  /** A PostgreSQL DSN: postgres_exporter scrapes it. */
  readonly postgresDsn?: string;
  readonly prometheusPort?: number;
  readonly alertmanagerPort?: number;
  /** Default `15s`. */
  readonly scrapeInterval?: string;
  readonly externalLabels?: Readonly<Record<string, string>>;
  /** Prometheus' resend delay (default `1m`; see PrometheusOptions). */
  readonly alertResendDelay?: string;
  /** Each server's log goes to `<logDir>/<server>.log`. */
  readonly logDir?: string;
}

export interface MonitoringStack extends AsyncDisposable {
  readonly prometheus: PrometheusServer;
  readonly alertmanager: AlertmanagerServer;
  readonly nodeExporter: ExporterServer;
  readonly redisExporter: ExporterServer | undefined;
  readonly postgresExporter: ExporterServer | undefined;
  /** Stops them all (Prometheus first). */
  stop(): Promise<void>;
}

export async function startMonitoring(o: MonitoringOptions): Promise<MonitoringStack> {
  const log = (name: string) => (o.logDir === undefined ? {} : { logFile: join(o.logDir, `${name}.log`) });
  const [prometheusPort, alertmanagerPort, nodePort, redisPort, postgresPort] = await Promise.all([
    o.prometheusPort ?? freePort(),
    o.alertmanagerPort ?? freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const local = (port: number) => [`127.0.0.1:${port}`];
  const jobs: ScrapeJob[] = [
    ...o.jobs,
    { name: MONITORING_JOBS.host, targets: local(nodePort) },
    { name: MONITORING_JOBS.alertmanager, targets: local(alertmanagerPort) },
    ...(o.redisUrl ? [{ name: MONITORING_JOBS.redis, targets: local(redisPort) }] : []),
    ...(o.postgresDsn ? [{ name: MONITORING_JOBS.postgres, targets: local(postgresPort) }] : []),
  ];
  const alertmanagerUrl = `http://127.0.0.1:${alertmanagerPort}`;
  // All at once: the stack adds about the slowest one's start (Prometheus') to the caller's.
  const started = await Promise.allSettled([
    startNodeExporter({ port: nodePort, ...log('node-exporter') }),
    o.redisUrl ? startRedisExporter(o.redisUrl, { port: redisPort, ...log('redis-exporter') }) : undefined,
    o.postgresDsn
      ? startPostgresExporter(o.postgresDsn, { port: postgresPort, ...log('postgres-exporter') })
      : undefined,
    startAlertmanager({ ...o.alerts, port: alertmanagerPort, ...log('alertmanager') }),
    startPrometheus({
      targets: jobs,
      rulesDir: o.rulesDir,
      alertmanagerUrl,
      port: prometheusPort,
      ...(o.scrapeInterval ? { scrapeInterval: o.scrapeInterval } : {}),
      ...(o.externalLabels ? { externalLabels: o.externalLabels } : {}),
      ...(o.alertResendDelay ? { alertResendDelay: o.alertResendDelay } : {}),
      ...log('prometheus'),
    }),
  ]);
  const failed = started.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed.length > 0) {
    await Promise.all(
      started.map((s) => (s.status === 'fulfilled' && s.value !== undefined ? s.value.stop() : undefined)),
    );
    throw new Error(
      `Cannot start the monitoring stack: ${failed.map((f) => (f.reason as Error).message).join('; ')}`,
      { cause: failed[0]!.reason },
    );
  }
  const value = <T>(i: number) => (started[i] as PromiseFulfilledResult<T>).value;
  const nodeExporter = value<ExporterServer>(0);
  const redisExporter = value<ExporterServer | undefined>(1);
  const postgresExporter = value<ExporterServer | undefined>(2);
  const alertmanager = value<AlertmanagerServer>(3);
  const prometheus = value<PrometheusServer>(4);
  const stop = async () => {
    await prometheus.stop();
    await Promise.all([
      alertmanager.stop(),
      nodeExporter.stop(),
      redisExporter?.stop(),
      postgresExporter?.stop(),
    ]);
  };
  return {
    prometheus,
    alertmanager,
    nodeExporter,
    redisExporter,
    postgresExporter,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
