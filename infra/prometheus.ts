/**
 * Prometheus (Debian's package) on a free loopback port: scrape jobs rendered into its
 * configuration (infra/prometheus-config.ts) plus a job for itself, every `*.yml` of
 * a rules folder loaded as rules (the gateway writes the operator's there), alerts sent to an
 * Alertmanager, `--web.enable-lifecycle` so that a `POST /-/reload` reads the configuration and
 * the rules again (`setTargets` rewrites the jobs that way), its TSDB in a temporary folder unless
 * `dataDir` says where. For the monitoring test, the demo and `npm run cluster`.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onFreePort } from './free-port.ts';
import { startMonitoringProcess, withFolder } from './monitoring-process.ts';
import { renderPrometheusConfig, type ScrapeJob } from './prometheus-config.ts';
import type { ServerProcess } from './server-process.ts';
import { waitFor } from './wait-for.ts';

export interface PrometheusOptions {
  /** What to scrape: one job per kind of process (a job `prometheus` for itself is added). */
  readonly targets: readonly ScrapeJob[];
  /** The rules folder (`<rulesDir>/*.yml`); default: a new temporary one. */
  readonly rulesDir?: string;
  /** Where alerts go (`http://127.0.0.1:<port>`); none: rules fire on Prometheus only. */
  readonly alertmanagerUrl?: string;
  /** Default `15s`; the tests use `1s`. */
  readonly scrapeInterval?: string;
  /** Default: the scrape interval. */
  readonly evaluationInterval?: string;
  /**
   * How often a firing alert is sent to Alertmanager again (default `1m`). A reload finds its
   * Alertmanagers again only after up to 5 s, and what fires before is sent at the next resend:
   * the tests use `1s`.
   */
  readonly alertResendDelay?: string;
  /** Labels on every series and alert (`cluster: demo`). */
  readonly externalLabels?: Readonly<Record<string, string>>;
  /** The TSDB's folder; default a temporary one, removed at stop. */
  readonly dataDir?: string;
  /** Default `2d` (`30d` in production). */
  readonly retention?: string;
  readonly port?: number;
  /** Append its log to this file. */
  readonly logFile?: string;
}

/** A target as `/api/v1/targets` reports it. */
export interface PrometheusTarget {
  readonly job: string;
  readonly instance: string;
  readonly health: 'up' | 'down' | 'unknown';
  readonly lastError: string;
  readonly scrapeUrl: string;
}

export interface PrometheusServer extends ServerProcess, AsyncDisposable {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly rulesDir: string;
  readonly configFile: string;
  /** Renders `jobs` (and its own) into its configuration and reloads it. */
  setTargets(jobs: readonly ScrapeJob[]): Promise<void>;
  /** `POST /-/reload`: the configuration and the rules folder read again; throws with its error. */
  reload(): Promise<void>;
  /** The active targets. */
  targets(): Promise<PrometheusTarget[]>;
  /** Waits until every active target (of `jobs`, if given) is up; throws naming those that are not. */
  untilTargetsUp(o?: { jobs?: readonly string[]; timeoutMs?: number }): Promise<PrometheusTarget[]>;
}

export function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  return onFreePort(options.port, (port) => startPrometheusOn(options, port));
}

async function startPrometheusOn(options: PrometheusOptions, port: number): Promise<PrometheusServer> {
  const url = `http://127.0.0.1:${port}`;
  const confDir = mkdtempSync(join(tmpdir(), 'dh-prometheus-'));
  const rulesDir = options.rulesDir ?? join(confDir, 'rules');
  mkdirSync(rulesDir, { recursive: true });
  const dataDir = options.dataDir ?? join(confDir, 'data');
  const configFile = join(confDir, 'prometheus.yml');
  const writeConfig = (jobs: readonly ScrapeJob[]) =>
    writeFileSync(
      configFile,
      renderPrometheusConfig({
        jobs: [{ name: 'prometheus', targets: [`127.0.0.1:${port}`] }, ...jobs],
        rulesDir,
        ...(options.scrapeInterval ? { scrapeInterval: options.scrapeInterval } : {}),
        ...(options.evaluationInterval ? { evaluationInterval: options.evaluationInterval } : {}),
        ...(options.alertmanagerUrl ? { alertmanagers: [options.alertmanagerUrl] } : {}),
        ...(options.externalLabels ? { externalLabels: options.externalLabels } : {}),
      }),
    );
  writeConfig(options.targets);
  const proc = await startMonitoringProcess({
    server: 'prometheus',
    port,
    args: [
      `--config.file=${configFile}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--storage.tsdb.path=${dataDir}`,
      `--storage.tsdb.retention.time=${options.retention ?? '2d'}`,
      '--web.enable-lifecycle',
      `--rules.alert.resend-delay=${options.alertResendDelay ?? '1m'}`,
    ],
    readyUrl: `${url}/-/ready`,
    ...(options.logFile ? { logFile: options.logFile } : {}),
  });
  const reload = async () => {
    const res = await fetch(`${url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`Prometheus refused its configuration (${res.status}): ${await res.text()}`);
  };
  const targets = async (): Promise<PrometheusTarget[]> => {
    const res = await fetch(`${url}/api/v1/targets?state=active`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`Prometheus /api/v1/targets answered ${res.status}`);
    const body = (await res.json()) as {
      data: {
        activeTargets: {
          labels: Record<string, string>;
          health: PrometheusTarget['health'];
          lastError: string;
          scrapeUrl: string;
        }[];
      };
    };
    return body.data.activeTargets.map((t) => ({
      job: t.labels.job ?? '',
      instance: t.labels.instance ?? '',
      health: t.health,
      lastError: t.lastError,
      scrapeUrl: t.scrapeUrl,
    }));
  };
  let last: PrometheusTarget[] = [];
  const untilTargetsUp = ({
    jobs,
    timeoutMs = 30_000,
  }: {
    jobs?: readonly string[];
    timeoutMs?: number;
  } = {}) =>
    waitFor(
      async () => {
        last = (await targets()).filter((t) => jobs === undefined || jobs.includes(t.job));
        const seen = new Set(last.map((t) => t.job));
        return (jobs ?? []).every((j) => seen.has(j)) && last.every((t) => t.health === 'up') && last;
      },
      { timeoutMs, intervalMs: 200, message: 'Prometheus targets up' },
    ).catch((error: unknown) => {
      const down = last
        .filter((t) => t.health !== 'up')
        .map((t) => `${t.job} ${t.scrapeUrl}: ${t.health} ${t.lastError}`);
      throw new Error(
        `${(error as Error).message}; not up: ${down.join('; ') || `jobs missing of ${jobs?.join(', ')}`}`,
      );
    });
  return withFolder(
    proc,
    {
      url,
      port,
      rulesDir,
      configFile,
      async setTargets(jobs: readonly ScrapeJob[]) {
        writeConfig(jobs);
        await reload();
      },
      reload,
      targets,
      untilTargetsUp,
    },
    confDir,
  );
}
