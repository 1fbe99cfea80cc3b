/**
 * What Prometheus knows of the cluster's servers, up or down: the hosts (node_exporter targets)
 * and the processes (every other target: the hub's own /metrics — nodes, gateways, workers — and
 * the exporters of Redis, PostgreSQL and the brokers), each with its job, instance and health;
 * and the alerts its rules fire now. A target is a host when its job is named after node_exporter
 * or it has reported `node_uname_info` in the last day (so a host that went down stays a host).
 */
import type { Labels, PrometheusClient, ScrapeTarget } from './prometheus-client.ts';

export interface ServerTarget {
  readonly job: string;
  readonly instance: string;
  readonly up: boolean;
  /** node_exporter's nodename for a host (else the instance). */
  readonly name: string;
  /** When Prometheus last scraped it (ms; 0: never). */
  readonly lastScrape: number;
  /** Why the last scrape failed (empty when it did not). */
  readonly lastError: string;
}

export interface Servers {
  readonly hosts: ServerTarget[];
  readonly processes: ServerTarget[];
}

export interface FiringAlert {
  readonly alertname: string;
  readonly severity: string;
  readonly state: 'pending' | 'firing';
  readonly instance?: string;
  readonly summary: string;
  readonly activeAt: number;
  readonly value: number;
  readonly labels: Labels;
}

const HOST_JOB = /^(node|nodes?[-_]?exporter|hosts?|node[-_]hosts?)$/i;

export async function listServers(prometheus: PrometheusClient, signal?: AbortSignal): Promise<Servers> {
  const [targets, unames] = await Promise.all([
    prometheus.targets(signal),
    prometheus.query(
      'max by (job, instance, nodename) (last_over_time(node_uname_info[1d]))',
      signal ? { signal } : {},
    ),
  ]);
  const names = new Map(unames.map((u) => [`${u.labels.job}\n${u.labels.instance}`, u.labels.nodename]));
  const hosts: ServerTarget[] = [];
  const processes: ServerTarget[] = [];
  for (const target of targets) {
    const key = `${target.job}\n${target.instance}`;
    const isHost = names.has(key) || HOST_JOB.test(target.job);
    (isHost ? hosts : processes).push(serverOf(target, names.get(key)));
  }
  const order = (a: ServerTarget, b: ServerTarget) =>
    a.job.localeCompare(b.job) || a.instance.localeCompare(b.instance, 'en', { numeric: true });
  return { hosts: hosts.sort(order), processes: processes.sort(order) };
}

export async function firingAlerts(
  prometheus: PrometheusClient,
  signal?: AbortSignal,
): Promise<FiringAlert[]> {
  const alerts = await prometheus.alerts(signal);
  return alerts
    .filter((a) => a.state === 'firing' || a.state === 'pending')
    .map((a) => ({
      alertname: a.labels.alertname ?? '',
      severity: a.labels.severity ?? 'none',
      state: a.state === 'firing' ? ('firing' as const) : ('pending' as const),
      ...(a.labels.instance === undefined ? {} : { instance: a.labels.instance }),
      summary: a.annotations.summary ?? a.annotations.description ?? '',
      activeAt: a.activeAt,
      value: Number.isFinite(a.value) ? a.value : 0,
      labels: a.labels,
    }))
    .sort((a, b) => rank(a) - rank(b) || b.activeAt - a.activeAt);
}

const SEVERITY: Record<string, number> = { critical: 0, warning: 1, info: 2 };
/** Firing before pending, then critical, warning, info, anything else. */
const rank = (a: FiringAlert) => (a.state === 'firing' ? 0 : 10) + (SEVERITY[a.severity] ?? 3);

function serverOf(t: ScrapeTarget, nodename: string | undefined): ServerTarget {
  return {
    job: t.job,
    instance: t.instance,
    up: t.health === 'up',
    name: nodename || t.instance,
    lastScrape: t.lastScrape,
    lastError: t.lastError,
  };
}
