/**
 * The demo's monitoring and log store (issue 18). Before the gateway: VictoriaLogs (data in
 * ./.devicehub/victorialogs, kept; its URL in DEVICEHUB_LOG_STORE for every process started after)
 * and the plan of the monitoring stack — the ports of Prometheus and Alertmanager, the rules folder
 * (./.devicehub/prometheus/rules, kept: the operator's rules survive a restart) and a webhook
 * token for this run — which the gateway is given. Once everything is up: node_exporter,
 * redis_exporter, Alertmanager (to the gateway's webhook over HTTPS, the demo CA trusted) and
 * Prometheus scraping the hub nodes, the MQTT link (served by this process), the gateway (HTTPS),
 * the clip and recognition workers, VictoriaLogs, the exporters, Alertmanager and itself, every
 * 5 s. Their logs go to ./.devicehub/logs/<server>.log.
 */
import { resolve } from 'node:path';
import {
  gatewayAlerts,
  hubScrapeJobs,
  type MonitoringPlan,
  type MonitoringStack,
  planMonitoring,
  startMonitoring,
  startVictoriaLogs,
  type VictoriaLogsServer,
} from '../infra/mod.ts';
import { LOG_DIR } from './demo-logs.ts';

/** What the gateway is told before the stack runs (GatewayOptions.monitoring). */
export function planDemoMonitoring(): Promise<MonitoringPlan> {
  return planMonitoring(resolve('.devicehub/prometheus/rules'));
}

/** VictoriaLogs with its data kept in ./.devicehub/victorialogs; DEVICEHUB_LOG_STORE set to it. */
export async function startDemoLogStore(): Promise<VictoriaLogsServer> {
  const store = await startVictoriaLogs({ dataDir: resolve('.devicehub/victorialogs'), retention: '7d' });
  process.env.DEVICEHUB_LOG_STORE = store.url;
  return store;
}

export function startDemoMonitoring(o: {
  plan: MonitoringPlan;
  redisUrl: string;
  /** The hub nodes' /metrics URLs. */
  nodeMetrics: readonly string[];
  /** The MQTT link's /metrics (it runs in the demo process; none without mosquitto). */
  linkMetrics: string | undefined;
  /** The gateway (https) and the demo CA its certificate is checked against. */
  gatewayUrl: string | undefined;
  caFile: string;
  clipMetrics: string | undefined;
  recognizeMetrics: string | undefined;
  logStoreUrl: string | undefined;
}): Promise<MonitoringStack> {
  const one = (url: string | undefined) => (url === undefined ? [] : [url]);
  return startMonitoring({
    jobs: hubScrapeJobs({
      nodes: o.nodeMetrics,
      gateways: one(o.gatewayUrl),
      caFile: o.caFile,
      links: one(o.linkMetrics),
      clips: one(o.clipMetrics),
      recognize: one(o.recognizeMetrics),
      logStore: o.logStoreUrl,
    }),
    rulesDir: o.plan.rulesDir,
    redisUrl: o.redisUrl,
    prometheusPort: o.plan.prometheusPort,
    alertmanagerPort: o.plan.alertmanagerPort,
    scrapeInterval: '5s',
    externalLabels: { cluster: 'demo' },
    logDir: resolve(LOG_DIR),
    alerts:
      o.gatewayUrl === undefined
        ? // No gateway: Alertmanager has nowhere to send to but must still run (the stack's shape).
          { webhookUrl: 'http://127.0.0.1:9/v1/monitoring/alertmanager', bearerToken: o.plan.webhookToken }
        : gatewayAlerts(o.gatewayUrl, o.plan, o.caFile),
  });
}
