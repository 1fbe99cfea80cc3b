/**
 * Alertmanager's configuration file: one route to one receiver, the gateway's webhook
 * (`POST /v1/monitoring/alertmanager` with a bearer token), with grouping (`group_by`), the wait
 * before a new group's first notification, the interval between a group's updates and the repeat
 * interval of one still firing; resolved alerts are sent too. Silences are Alertmanager's own
 * (its API v2, which the gateway proxies). What infra/alertmanager.ts runs Alertmanager with;
 * deploy/prometheus/alertmanager.yml is the same by hand, with the token in a file. Pure; the
 * output is JSON, which is YAML as Alertmanager reads it.
 */

const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The receiver's name: the route's and the webhook's. */
const ALERT_RECEIVER = 'devicehub';

/** What a new group waits for, how often it is updated and re-sent, by default (production). */
const ALERT_GROUPING = {
  groupBy: ['alertname', 'severity'],
  groupWait: '30s',
  groupInterval: '5m',
  repeatInterval: '4h',
} as const;

export interface AlertmanagerConfigOptions {
  /** The gateway's webhook: `https://…/v1/monitoring/alertmanager`. */
  readonly webhookUrl: string;
  /** The bearer token the webhook checks (DEVICEHUB_ALERT_WEBHOOK_TOKEN) … */
  readonly bearerToken?: string;
  /** … or a file holding it (compose: a secret), one of the two. */
  readonly bearerTokenFile?: string;
  /** With https: the CA the webhook's certificate is checked against. */
  readonly caFile?: string;
  /** Labels an alert group is made of (default `alertname`, `severity`); `['...']` = each alert alone. */
  readonly groupBy?: readonly string[];
  readonly groupWait?: string;
  readonly groupInterval?: string;
  readonly repeatInterval?: string;
}

/** The alertmanager.yml for `options` (JSON, valid YAML); throws a RangeError naming a bad value. */
export function renderAlertmanagerConfig(options: AlertmanagerConfigOptions): string {
  const url = new URL(options.webhookUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new RangeError(
      `Cannot render alertmanager.yml: webhookUrl must be http(s), got ${options.webhookUrl}`,
    );
  if ((options.bearerToken === undefined) === (options.bearerTokenFile === undefined))
    throw new RangeError('Cannot render alertmanager.yml: give one of bearerToken and bearerTokenFile');
  if (options.bearerToken !== undefined && !/^[\x21-\x7e]{16,}$/.test(options.bearerToken))
    throw new RangeError(
      'Cannot render alertmanager.yml: bearerToken must be 16 or more printable characters',
    );
  if (options.caFile !== undefined && url.protocol !== 'https:')
    throw new RangeError('Cannot render alertmanager.yml: caFile is for an https webhookUrl');
  const groupBy = [...(options.groupBy ?? ALERT_GROUPING.groupBy)];
  for (const label of groupBy)
    if (label !== '...' && !LABEL_NAME.test(label))
      throw new RangeError(
        `Cannot render alertmanager.yml: groupBy has a bad label name ${JSON.stringify(label)}`,
      );
  const config = {
    route: {
      receiver: ALERT_RECEIVER,
      group_by: groupBy,
      group_wait: duration('groupWait', options.groupWait ?? ALERT_GROUPING.groupWait),
      group_interval: duration('groupInterval', options.groupInterval ?? ALERT_GROUPING.groupInterval),
      repeat_interval: duration('repeatInterval', options.repeatInterval ?? ALERT_GROUPING.repeatInterval),
    },
    receivers: [
      {
        name: ALERT_RECEIVER,
        webhook_configs: [
          {
            url: url.href,
            send_resolved: true,
            http_config: {
              authorization: {
                type: 'Bearer',
                ...(options.bearerToken !== undefined
                  ? { credentials: options.bearerToken }
                  : { credentials_file: options.bearerTokenFile }),
              },
              ...(options.caFile ? { tls_config: { ca_file: options.caFile } } : {}),
            },
          },
        ],
      },
    ],
  };
  return `# Rendered by DeviceHub (infra/alertmanager-config.ts): JSON, which is YAML.\n${JSON.stringify(config, null, 2)}\n`;
}

function duration(name: string, value: string): string {
  if (!DURATION.test(value))
    throw new RangeError(
      `Cannot render alertmanager.yml: ${name} must be a duration such as 30s, got ${value}`,
    );
  return value;
}
