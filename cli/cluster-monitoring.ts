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
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  gatewayAlerts,
  hubScrapeJobs,
  type MonitoringPlan,
  type MonitoringStack,
  planMonitoring,
  startMonitoring,
  startVictoriaLogs,
} from '../infra/mod.ts';
import type { ClusterParts, ClusterServers } from './cluster-start.ts';

export interface ClusterMonitoringPlan extends MonitoringPlan {
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
  const plan = await planMonitoring(join(mkdtempSync(join(tmpdir(), 'dh-cluster-prometheus-')), 'rules'));
  return {
    ...plan,
    gatewayEnv: {
      DEVICEHUB_PROMETHEUS_URL: plan.prometheusUrl,
      DEVICEHUB_PROMETHEUS_RULES_DIR: plan.rulesDir,
      DEVICEHUB_ALERTMANAGER_URL: plan.alertmanagerUrl,
      DEVICEHUB_ALERT_WEBHOOK_TOKEN: plan.webhookToken,
    },
  };
}

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
  const stack = await startMonitoring({
    rulesDir: o.plan.rulesDir,
    prometheusPort: o.plan.prometheusPort,
    alertmanagerPort: o.plan.alertmanagerPort,
    jobs: hubScrapeJobs({
      nodes: o.nodeMetrics,
      // The gateways' /metrics over HTTPS, their certificate checked against the run's CA.
      gateways: o.gateways,
      caFile: servers.pki.caFile,
      links: o.linkMetrics,
      clips: o.clipMetrics,
      recognize: o.recognizeMetrics,
      logStore: o.logStoreUrl,
    }),
    redisUrl: servers.redisUrl,
    postgresDsn: servers.databaseUrl,
    scrapeInterval: '5s',
    externalLabels: { cluster: 'local' },
    logDir: o.logDir,
    alerts: gatewayAlerts(o.apiUrl, o.plan, servers.pki.caFile),
  });
  parts.onStop(() => stack.stop());
  return stack;
}
