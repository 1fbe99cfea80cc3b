/** What the gateway's monitoring routes and loops work with (settings DEVICEHUB_PROMETHEUS_URL, …). */
import type { Promtool } from './promtool.ts';

export interface MonitoringOptions {
  /** Prometheus (`http://127.0.0.1:9090`): reloaded after the rules change, asked for alerts. */
  readonly prometheusUrl?: string;
  /** The folder whose `*.yml` Prometheus loads as rules; the gateway writes `operator.yml` there. */
  readonly rulesDir?: string;
  /** Alertmanager (`http://127.0.0.1:9093`): silences are proxied to its API v2. */
  readonly alertmanagerUrl?: string;
  /** The bearer token Alertmanager's webhook presents (none: the webhook answers 401). */
  readonly webhookToken?: string;
  /** Between rule applications when nothing changed (default 30 s; 0: no loop). */
  readonly applyEveryMs?: number;
  /** Checks rule groups (default: promtool on the PATH, 2 at once). */
  readonly promtool?: Promtool;
}
