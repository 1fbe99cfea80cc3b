/**
 * `devicehub gateway`'s monitoring settings (gateway/monitoring, decision 039): Prometheus (the
 * operator alert rules are written to its rules folder and it is reloaded), Alertmanager
 * (silences, the alerts it holds) and the token its webhook presents (environment only).
 */
import type { MonitoringOptions } from '../gateway/mod.ts';

type Flags = Record<string, string | boolean | undefined>;

export const MONITORING_FLAGS = {
  'prometheus-url': { type: 'string' },
  'prometheus-rules-dir': { type: 'string' },
  'alertmanager-url': { type: 'string' },
} as const;

export const monitoringHelp = `  --prometheus-url URL     Prometheus (env DEVICEHUB_PROMETHEUS_URL): /v1/servers, and the operator alert
                           rules applied by reloading it (needs --web.enable-lifecycle)
  --prometheus-rules-dir D the folder whose *.yml Prometheus loads (env DEVICEHUB_PROMETHEUS_RULES_DIR):
                           one gateway writes operator.yml there from /v1/alert-rules
  --alertmanager-url URL   Alertmanager (env DEVICEHUB_ALERTMANAGER_URL): /v1/alert-silences, /v1/monitoring/alerts
                           Alertmanager's webhook (POST /v1/monitoring/alertmanager) checks the bearer token in
                           env DEVICEHUB_ALERT_WEBHOOK_TOKEN (never a flag; none: the webhook answers 401)`;

/** The gateway's monitoring options from flags and environment (undefined: none configured). */
export function monitoringOptions(values: Flags): MonitoringOptions | undefined {
  const str = (flag: string, env: string) => (values[flag] as string | undefined) ?? process.env[env];
  const prometheusUrl = str('prometheus-url', 'DEVICEHUB_PROMETHEUS_URL');
  const rulesDir = str('prometheus-rules-dir', 'DEVICEHUB_PROMETHEUS_RULES_DIR');
  const alertmanagerUrl = str('alertmanager-url', 'DEVICEHUB_ALERTMANAGER_URL');
  const webhookToken = process.env.DEVICEHUB_ALERT_WEBHOOK_TOKEN;
  for (const [name, value] of [
    ['--prometheus-url / DEVICEHUB_PROMETHEUS_URL', prometheusUrl],
    ['--alertmanager-url / DEVICEHUB_ALERTMANAGER_URL', alertmanagerUrl],
  ] as const)
    if (value !== undefined && !/^https?:\/\/[^/]+/.test(value))
      throw new RangeError(`Invalid ${name}: expected http(s)://host:port, got "${value}"`);
  if (rulesDir !== undefined && prometheusUrl === undefined)
    throw new RangeError('--prometheus-rules-dir needs --prometheus-url (the gateway reloads Prometheus)');
  const options: MonitoringOptions = {
    ...(prometheusUrl === undefined ? {} : { prometheusUrl }),
    ...(rulesDir === undefined ? {} : { rulesDir }),
    ...(alertmanagerUrl === undefined ? {} : { alertmanagerUrl }),
    ...(webhookToken === undefined || webhookToken === '' ? {} : { webhookToken }),
  };
  return Object.keys(options).length === 0 ? undefined : options;
}
