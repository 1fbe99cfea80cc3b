/**
 * A real Alertmanager and Prometheus wired for a test of the gateway's alerting: Prometheus
 * evaluates a fresh rules folder every second and sends to Alertmanager, whose webhook route
 * (grouped by alert name, 1 s waits) carries a bearer token. The gateway's URL is only known once
 * it serves, so `routeTo` points the webhook at it afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AlertmanagerServer,
  type PrometheusServer,
  startAlertmanager,
  startPrometheus,
} from '../../../infra/mod.ts';
import type { MonitoringOptions } from '../options.ts';

export interface AlertStack {
  readonly alertmanager: AlertmanagerServer;
  readonly prometheus: PrometheusServer;
  readonly rulesDir: string;
  /** The gateway's `monitoring` option for this stack (rules applied every second). */
  readonly monitoring: MonitoringOptions;
  /** Points Alertmanager's webhook at a served gateway (its base URL). */
  routeTo(gatewayUrl: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startAlertStack(o: { token: string; repeatInterval: string }): Promise<AlertStack> {
  const rulesDir = mkdtempSync(join(tmpdir(), 'dh-alert-stack-'));
  const route = (webhookOrigin: string) => ({
    webhookUrl: `${webhookOrigin}/v1/monitoring/alertmanager`,
    bearerToken: o.token,
    groupBy: ['alertname'],
    groupWait: '1s',
    groupInterval: '1s',
    repeatInterval: o.repeatInterval,
  });
  // Port 9 (discard) until the gateway serves.
  const alertmanager = await startAlertmanager(route('http://127.0.0.1:9'));
  const prometheus = await startPrometheus({
    targets: [],
    rulesDir,
    alertmanagerUrl: alertmanager.url,
    scrapeInterval: '1s',
    evaluationInterval: '1s',
    alertResendDelay: '1s',
  }).catch(async (error: unknown) => {
    await alertmanager.stop();
    throw error;
  });
  return {
    alertmanager,
    prometheus,
    rulesDir,
    monitoring: {
      prometheusUrl: prometheus.url,
      rulesDir,
      alertmanagerUrl: alertmanager.url,
      webhookToken: o.token,
      applyEveryMs: 1000,
    },
    routeTo: (gatewayUrl) => alertmanager.configure(route(gatewayUrl)),
    async stop() {
      await prometheus.stop();
      await alertmanager.stop();
      rmSync(rulesDir, { recursive: true, force: true });
    },
  };
}
