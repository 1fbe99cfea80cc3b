/**
 * `devicehub cluster`'s log store and monitoring (issue 18), as docker-compose.yml runs them:
 * VictoriaLogs (a temporary folder, 7 days' retention), its URL in DEVICEHUB_LOG_STORE for every
 * process started after; before the gateways, the monitoring plan — Prometheus' and
 * Alertmanager's ports, a rules folder every gateway shares, a webhook token for the run — given
 * to each gateway in its environment (DEVICEHUB_PROMETHEUS_URL, DEVICEHUB_PROMETHEUS_RULES_DIR,
 * DEVICEHUB_ALERTMANAGER_URL, DEVICEHUB_ALERT_WEBHOOK_TOKEN); once everything is up,
 * node_exporter, redis_exporter, postgres_exporter, Alertmanager (to the balanced API's webhook
 * over HTTPS, the run's CA trusted) and Prometheus scraping every hub process, every 5 s.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  MONITORING_JOBS,
  type MonitoringStack,
  type ScrapeJob,
  startMonitoring,
  startVictoriaLogs,
} from '../infra/mod.ts';
import type { ClusterParts, ClusterServers } from './cluster-start.ts';

export interface ClusterMonitoringPlan {
  readonly prometheusUrl: string;
  readonly alertmanagerUrl: string;
  readonly rulesDir: string;
  readonly webhookToken: string;
  readonly prometheusPort: number;
  readonly alertmanagerPort: number;
  /** What each gateway is given in its environment. */
  readonly gatewayEnv: Record<string, string>;
}

/** VictoriaLogs; DEVICEHUB_LOG_STORE set to it for the processes started after. */
export async function startClusterLogStore(parts: ClusterParts): Promise<string> {
  const store = await startVictoriaLogs({
    dataDir: mkdtempSync(join(tmpdir(), 'dh-cluster-logs-')),
    retention: '7d',
  });
  parts.onStop(() => store.stop());
  process.env.DEVICEHUB_LOG_STORE = store.url;
  return store.url;
}

export async function planClusterMonitoring(): Promise<ClusterMonitoringPlan> {
  const [prometheusPort, alertmanagerPort] = await Promise.all([freePort(), freePort()]);
  const rulesDir = join(mkdtempSync(join(tmpdir(), 'dh-cluster-prometheus-')), 'rules');
  mkdirSync(rulesDir);
  const prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
  const alertmanagerUrl = `http://127.0.0.1:${alertmanagerPort}`;
  const webhookToken = randomBytes(24).toString('base64url');
  return {
    prometheusUrl,
    alertmanagerUrl,
    rulesDir,
    webhookToken,
    prometheusPort,
    alertmanagerPort,
    gatewayEnv: {
      DEVICEHUB_PROMETHEUS_URL: prometheusUrl,
      DEVICEHUB_PROMETHEUS_RULES_DIR: rulesDir,
      DEVICEHUB_ALERTMANAGER_URL: alertmanagerUrl,
      DEVICEHUB_ALERT_WEBHOOK_TOKEN: webhookToken,
    },
  };
}

/** `host:port` of a URL. */
const hostOf = (url: string) => new URL(url).host;

export async function startClusterMonitoring(
  parts: ClusterParts,
  servers: ClusterServers,
  o: {
    plan: ClusterMonitoringPlan;
    /** The balanced API (the webhook's address). */
    apiUrl: string;
    gateways: readonly string[];
    nodeMetrics: readonly string[];
    /** The links' /metrics URLs (`devicehub link --metrics-port`). */
    linkMetrics: readonly string[];
    clipMetrics: readonly string[];
    recognizeMetrics: readonly string[];
    logStoreUrl: string | undefined;
    logDir: string;
  },
): Promise<MonitoringStack> {
  parts.step('starting Prometheus, Alertmanager, node_exporter, redis_exporter and postgres_exporter');
  const job = (name: string, urls: readonly string[]): ScrapeJob[] =>
    urls.length === 0 ? [] : [{ name, targets: urls.map(hostOf) }];
  const jobs: ScrapeJob[] = [
    ...job(MONITORING_JOBS.nodes, o.nodeMetrics),
    // The gateways' /metrics over HTTPS, their certificate checked against the run's CA.
    {
      name: MONITORING_JOBS.gateways,
      targets: o.gateways.map(hostOf),
      scheme: 'https',
      caFile: servers.pki.caFile,
    },
    ...job(MONITORING_JOBS.links, o.linkMetrics),
    ...job(MONITORING_JOBS.clips, o.clipMetrics),
    ...job(MONITORING_JOBS.recognize, o.recognizeMetrics),
    ...job('victorialogs', o.logStoreUrl === undefined ? [] : [o.logStoreUrl]),
  ];
  const stack = await startMonitoring({
    jobs,
    rulesDir: o.plan.rulesDir,
    redisUrl: servers.redisUrl,
    postgresDsn: servers.databaseUrl,
    prometheusPort: o.plan.prometheusPort,
    alertmanagerPort: o.plan.alertmanagerPort,
    scrapeInterval: '5s',
    externalLabels: { cluster: 'local' },
    logDir: o.logDir,
    alerts: {
      webhookUrl: `${o.apiUrl}/v1/monitoring/alertmanager`,
      bearerToken: o.plan.webhookToken,
      caFile: servers.pki.caFile,
      groupWait: '10s',
      groupInterval: '1m',
      repeatInterval: '1h',
    },
  });
  parts.onStop(() => stack.stop());
  return stack;
}
