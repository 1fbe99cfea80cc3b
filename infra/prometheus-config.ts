/**
 * Prometheus's configuration file, rendered from what is to be scraped: one scrape job per kind
 * of process (hub nodes, gateways, workers, exporters), the operator's and the default rules as a
 * rules DIRECTORY (`<rulesDir>/*.yml`: the gateway writes `operator.yml` there and reloads), and
 * the Alertmanagers alerts go to: what infra/prometheus.ts runs Prometheus with (the demo, `npm
 * run cluster`, the tests). Pure: no files, no processes. The output is JSON, which is YAML as
 * Prometheus and promtool read it (no YAML library: the image has none).
 */

/** A Prometheus duration: `500ms`, `5s`, `1m`, `1h30m`. */
const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;
/** A scrape target: `host:port` (a name, IPv4 or [IPv6]). */
const TARGET = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/;
const JOB_NAME = /^[A-Za-z0-9_.:-]{1,128}$/;
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface ScrapeJob {
  /** The `job` label of its series (`devicehub-nodes`, `node`, `redis`…). */
  readonly name: string;
  /** `host:port` of each target. */
  readonly targets: readonly string[];
  /** Default `http`. */
  readonly scheme?: 'http' | 'https';
  /** With https: the CA file the targets' certificates are checked against. */
  readonly caFile?: string;
  /** With https: the name their certificates carry, when not the target's host. */
  readonly serverName?: string;
  /** Labels added to every target of the job (`host`, `service`…). */
  readonly labels?: Readonly<Record<string, string>>;
  /** This job's own interval (default: the global one). */
  readonly scrapeInterval?: string;
}

export interface PrometheusConfigOptions {
  readonly jobs: readonly ScrapeJob[];
  /** The folder of rule files: every `*.yml` in it is loaded (at start and at each reload). */
  readonly rulesDir: string;
  /** Default `15s`. */
  readonly scrapeInterval?: string;
  /** How often rules are evaluated (default: the scrape interval). */
  readonly evaluationInterval?: string;
  /** The Alertmanagers (`http://host:port` or `host:port`); none: alerts are only shown. */
  readonly alertmanagers?: readonly string[];
  /** Labels on every series and alert this Prometheus sends (`cluster: demo`). */
  readonly externalLabels?: Readonly<Record<string, string>>;
}

/** The prometheus.yml for `options` (JSON, valid YAML); throws a RangeError naming a bad value. */
export function renderPrometheusConfig(options: PrometheusConfigOptions): string {
  const scrapeInterval = duration('scrapeInterval', options.scrapeInterval ?? '15s');
  const evaluationInterval = duration('evaluationInterval', options.evaluationInterval ?? scrapeInterval);
  if (!options.rulesDir) throw new RangeError('Cannot render prometheus.yml: rulesDir is empty');
  const names = new Set<string>();
  const scrapeConfigs = options.jobs.map((job) => {
    if (!JOB_NAME.test(job.name))
      throw new RangeError(`Cannot render prometheus.yml: job name ${JSON.stringify(job.name)} is not valid`);
    if (names.has(job.name))
      throw new RangeError(`Cannot render prometheus.yml: job ${job.name} is named twice`);
    names.add(job.name);
    return scrapeConfig(job);
  });
  const config: Record<string, unknown> = {
    global: {
      scrape_interval: scrapeInterval,
      evaluation_interval: evaluationInterval,
      ...(options.externalLabels
        ? { external_labels: labels('externalLabels', options.externalLabels) }
        : {}),
    },
    rule_files: [`${options.rulesDir.replace(/\/+$/, '')}/*.yml`],
    scrape_configs: scrapeConfigs,
  };
  if (options.alertmanagers !== undefined && options.alertmanagers.length > 0)
    config.alerting = { alertmanagers: options.alertmanagers.map(alertmanager) };
  return `# Rendered by DeviceHub (infra/prometheus-config.ts): JSON, which is YAML.\n${JSON.stringify(config, null, 2)}\n`;
}

function scrapeConfig(job: ScrapeJob): Record<string, unknown> {
  for (const target of job.targets)
    if (!TARGET.test(target))
      throw new RangeError(
        `Cannot render prometheus.yml: job ${job.name}'s target ${JSON.stringify(target)} is not host:port`,
      );
  const scheme = job.scheme ?? 'http';
  if (scheme !== 'http' && scheme !== 'https')
    throw new RangeError(
      `Cannot render prometheus.yml: job ${job.name}'s scheme must be http or https, got ${scheme}`,
    );
  if ((job.caFile !== undefined || job.serverName !== undefined) && scheme !== 'https')
    throw new RangeError(
      `Cannot render prometheus.yml: job ${job.name} has a CA or server name but scheme http`,
    );
  return {
    job_name: job.name,
    ...(job.scrapeInterval
      ? { scrape_interval: duration(`${job.name}.scrapeInterval`, job.scrapeInterval) }
      : {}),
    scheme,
    metrics_path: '/metrics',
    ...(scheme === 'https'
      ? {
          tls_config: {
            ...(job.caFile ? { ca_file: job.caFile } : {}),
            ...(job.serverName ? { server_name: job.serverName } : {}),
          },
        }
      : {}),
    static_configs: [
      {
        targets: [...job.targets],
        ...(job.labels ? { labels: labels(`${job.name}.labels`, job.labels) } : {}),
      },
    ],
  };
}

function alertmanager(at: string): Record<string, unknown> {
  const url = new URL(/^[a-z]+:\/\//.test(at) ? at : `http://${at}`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new RangeError(`Cannot render prometheus.yml: alertmanager ${at} is not http(s)`);
  const pathPrefix = url.pathname.replace(/\/+$/, '');
  return {
    scheme: url.protocol.slice(0, -1),
    ...(pathPrefix ? { path_prefix: pathPrefix } : {}),
    static_configs: [{ targets: [url.host] }],
  };
}

function duration(name: string, value: string): string {
  if (!DURATION.test(value))
    throw new RangeError(
      `Cannot render prometheus.yml: ${name} must be a duration such as 15s, got ${value}`,
    );
  return value;
}

function labels(name: string, value: Readonly<Record<string, string>>): Record<string, string> {
  for (const key of Object.keys(value))
    if (!LABEL_NAME.test(key) || key.startsWith('__'))
      throw new RangeError(
        `Cannot render prometheus.yml: ${name} has a bad label name ${JSON.stringify(key)}`,
      );
  return { ...value };
}
