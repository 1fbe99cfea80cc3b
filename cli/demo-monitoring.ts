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
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  freePort,
  MONITORING_JOBS,
  type MonitoringStack,
  type ScrapeJob,
  startMonitoring,
  startVictoriaLogs,
  type VictoriaLogsServer,
} from '../infra/mod.ts';
import { LOG_DIR } from './demo-logs.ts';

/** What the gateway is told before the stack runs (GatewayOptions.monitoring). */
export interface DemoMonitoringPlan {
  readonly prometheusUrl: string;
  readonly alertmanagerUrl: string;
  readonly rulesDir: string;
  readonly webhookToken: string;
  readonly prometheusPort: number;
  readonly alertmanagerPort: number;
}

export async function planDemoMonitoring(): Promise<DemoMonitoringPlan> {
  const [prometheusPort, alertmanagerPort] = await Promise.all([freePort(), freePort()]);
  const rulesDir = resolve('.devicehub/prometheus/rules');
  mkdirSync(rulesDir, { recursive: true });
  return {
    prometheusUrl: `http://127.0.0.1:${prometheusPort}`,
    alertmanagerUrl: `http://127.0.0.1:${alertmanagerPort}`,
    rulesDir,
    webhookToken: randomBytes(24).toString('base64url'),
    prometheusPort,
    alertmanagerPort,
  };
}

/** VictoriaLogs with its data kept in ./.devicehub/victorialogs; DEVICEHUB_LOG_STORE set to it. */
export async function startDemoLogStore(): Promise<VictoriaLogsServer> {
  const store = await startVictoriaLogs({ dataDir: resolve('.devicehub/victorialogs'), retention: '7d' });
  process.env.DEVICEHUB_LOG_STORE = store.url;
  return store;
}

/** `host:port` of a URL (`http://127.0.0.1:9464/metrics` → `127.0.0.1:9464`). */
const hostOf = (url: string) => new URL(url).host;

export function startDemoMonitoring(o: {
  plan: DemoMonitoringPlan;
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
  const jobs: ScrapeJob[] = [{ name: MONITORING_JOBS.nodes, targets: o.nodeMetrics.map(hostOf) }];
  if (o.gatewayUrl !== undefined)
    jobs.push({
      name: MONITORING_JOBS.gateways,
      targets: [hostOf(o.gatewayUrl)],
      scheme: 'https',
      caFile: o.caFile,
    });
  if (o.linkMetrics !== undefined)
    jobs.push({ name: MONITORING_JOBS.links, targets: [hostOf(o.linkMetrics)] });
  if (o.clipMetrics !== undefined)
    jobs.push({ name: MONITORING_JOBS.clips, targets: [hostOf(o.clipMetrics)] });
  if (o.recognizeMetrics !== undefined)
    jobs.push({ name: MONITORING_JOBS.recognize, targets: [hostOf(o.recognizeMetrics)] });
  if (o.logStoreUrl !== undefined) jobs.push({ name: 'victorialogs', targets: [hostOf(o.logStoreUrl)] });
  return startMonitoring({
    jobs,
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
        : {
            webhookUrl: `${o.gatewayUrl}/v1/monitoring/alertmanager`,
            bearerToken: o.plan.webhookToken,
            caFile: o.caFile,
            groupWait: '10s',
            groupInterval: '1m',
            repeatInterval: '1h',
          },
  });
}
