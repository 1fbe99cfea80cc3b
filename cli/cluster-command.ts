/**
 * `devicehub cluster --nodes 3 --gateways 2`: the production topology of docker-compose.yml as
 * local processes, for a machine without Docker and for the tests: Redis (one server, or a
 * Redis Cluster of 3 masters and 3 replicas), PostgreSQL, mosquitto, a KRaft Kafka of several
 * brokers, frps, hub nodes (each with /metrics), an MQTT and a Kafka link, gateways sharing the
 * database, and a round-robin balancer in front of the gateways, all over TLS with a fleet CA made
 * for the run (HTTPS, MQTT over TLS, Kafka SASL_SSL, frp TLS), and alarm clip workers (`devicehub
 * clips`, /metrics each) with the Ezviz stand-in they fetch from, and recognition workers (`devicehub
 * recognize`, /metrics each), VictoriaLogs for every process's log lines, and Prometheus with
 * Alertmanager and the exporters watching it all (cli/cluster-monitoring.ts). Prints where everything is, the CA
 * to trust and the admin key; runs until SIGTERM or Ctrl-C, then stops it all. Every devicehub process (and
 * the command itself, `cluster.log`) appends its pino JSON lines to <log-dir>/<process>.log.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { type DevicehubProcess, spawnDevicehub } from '../infra/mod.ts';
import { ownChildProcesses, stopDescendants } from '../infra/process-tree.ts';
import { configureCdnPool, startCdnCaches } from './cdn-caches.ts';
import { planClusterMonitoring, startClusterLogStore, startClusterMonitoring } from './cluster-monitoring.ts';
import {
  type ClusterParts,
  type ClusterServers,
  startGateways,
  startHubNodes,
  startLinks,
  startServers,
} from './cluster-start.ts';
import { startClipWorkers, startRecognizeWorkers } from './cluster-workers.ts';
import { intFlag } from './config.ts';
import { logFile, processLogger } from './logger.ts';

export const clusterHelp = `devicehub cluster [options]   the docker-compose topology as local processes

  --nodes N            hub nodes (default 3)
  --gateways N         gateways behind the balancer (default 2)
  --redis single|cluster   one redis-server (AOF always), or 3 masters + 3 replicas (default single)
  --kafka-brokers N    KRaft brokers, replication factor min(N, 3) (default 3; 0: no Kafka link)
  --clip-workers N     alarm clip workers, with an Ezviz stand-in (default 2; 0: neither)
  --recognize-workers N   recognition workers, the provisioned model on the CPU (default 1; 0: none)
  --port N             the balancer's port (default 8080; a free one when taken)
  --log-dir DIR        where each process's log goes, <process>.log (default ./.devicehub/cluster/logs)`;

export async function clusterCommand(argv: string[]): Promise<void> {
  const o = parseClusterArgs(argv);
  const log = processLogger('cluster', {}, { file: logFile(o.logDir, 'cluster') });
  // Finished, failed or interrupted, nothing is left behind: Redis and the devicehub processes get
  // process groups of their own (a terminal's Ctrl-C reaches only this command, which stops them
  // in order: hub nodes before Redis), each stop gets 5 s, what is still running then is killed,
  // and so is whatever still runs when this process exits.
  ownChildProcesses();
  const parts = clusterParts(log, o.logDir);
  let up = false;
  const interruptStart = (signal: NodeJS.Signals) => {
    if (up) return;
    parts.step(`${signal} while starting; stopping what has started`);
    void parts.stopAll().finally(() => process.exit(1));
  };
  process.once('SIGINT', interruptStart);
  process.once('SIGTERM', interruptStart);
  try {
    // VictoriaLogs beside the servers: every process started after ships its logs there.
    const [servers, logStore] = await Promise.all([startServers(parts, o), startClusterLogStore(parts)]);
    const monitoring = await planClusterMonitoring();
    parts.step(`starting ${o.nodes} hub node(s) and the links`);
    const nodeMetrics = await startHubNodes(parts, servers, o.nodes);
    const linkMetrics = await startLinks(parts, servers);
    parts.step(`starting ${o.gateways} gateway(s) behind a balancer`);
    const api = await startGateways(parts, servers, { ...o, env: monitoring.gatewayEnv });
    parts.step('starting 2 CDN caches (nginx, slice 1m) in front of the gateways');
    const cdn = await startCdnCaches({
      origin: api.url,
      caFile: servers.pki.caFile,
      tls: servers.pki.server,
      dir: mkdtempSync(join(tmpdir(), 'devicehub-cluster-cdn-')),
    });
    parts.onStop(() => cdn.stop());
    const clips = await startClipWorkers(parts, servers, { workers: o.clipWorkers });
    const recognize = await startRecognizeWorkers(parts, servers, { workers: o.recognizeWorkers });
    const stack = await startClusterMonitoring(parts, servers, {
      plan: monitoring,
      apiUrl: api.url,
      gateways: api.gateways,
      nodeMetrics,
      linkMetrics,
      clipMetrics: clips.metrics,
      recognizeMetrics: recognize.metrics,
      logStoreUrl: logStore,
      logDir: o.logDir,
    });
    await configureCdnPool({
      api: api.url,
      adminKey: api.adminKey,
      caFile: servers.pki.caFile,
      mirrors: cdn.urls,
    });
    announce(o, servers, {
      ...api,
      nodeMetrics,
      cdn: cdn.urls,
      clips,
      recognizeMetrics: recognize.metrics,
      monitoring: { prometheusUrl: stack.prometheus.url, alertmanagerUrl: stack.alertmanager.url, logStore },
    });
    up = true;
    await untilStopped(parts, log);
  } finally {
    parts.step('stopping');
    await parts.stopAll();
  }
}

interface ClusterOptions {
  logDir: string;
  nodes: number;
  gateways: number;
  brokers: number;
  clipWorkers: number;
  recognizeWorkers: number;
  port: number;
  redis: 'single' | 'cluster';
}

function parseClusterArgs(argv: string[]): ClusterOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string' },
      gateways: { type: 'string' },
      redis: { type: 'string', default: 'single' },
      'kafka-brokers': { type: 'string' },
      'clip-workers': { type: 'string' },
      'recognize-workers': { type: 'string' },
      port: { type: 'string' },
      'log-dir': { type: 'string', default: '.devicehub/cluster/logs' },
    },
  });
  const nodes = intFlag(values, { name: 'nodes', env: 'DH_CLUSTER_NODES', fallback: 3 });
  const gateways = intFlag(values, { name: 'gateways', env: 'DH_CLUSTER_GATEWAYS', fallback: 2 });
  const brokers = intFlag(values, { name: 'kafka-brokers', env: 'DH_CLUSTER_KAFKA_BROKERS', fallback: 3 });
  const port = intFlag(values, { name: 'port', env: 'DH_CLUSTER_PORT', fallback: 8080 });
  const clipWorkers = intFlag(values, { name: 'clip-workers', env: 'DH_CLUSTER_CLIP_WORKERS', fallback: 2 });
  // One: this machine has 2 cores for everything the cluster runs (compose runs two).
  const recognizeWorkers = intFlag(values, {
    name: 'recognize-workers',
    env: 'DH_CLUSTER_RECOGNIZE_WORKERS',
    fallback: 1,
  });
  if (values.redis !== 'single' && values.redis !== 'cluster') {
    throw new RangeError(`--redis must be "single" or "cluster", got ${JSON.stringify(values.redis)}`);
  }
  return {
    logDir: values['log-dir'],
    nodes,
    gateways,
    brokers,
    clipWorkers,
    recognizeWorkers,
    port,
    redis: values.redis,
  };
}

interface RunningParts extends ClusterParts {
  readonly children: readonly DevicehubProcess[];
  /** True once stopAll has been called. */
  readonly stopping: boolean;
  /** Stops everything in reverse order (5 s each), then kills what is left; once. */
  stopAll(): Promise<void>;
}

function clusterParts(log: Logger, logDir: string): RunningParts {
  const stops: (() => Promise<unknown>)[] = [];
  const children: DevicehubProcess[] = [];
  let stopping = false;
  let stopped: Promise<void> | undefined;
  return {
    children,
    get stopping() {
      return stopping;
    },
    step(what) {
      log.info(what);
      process.stderr.write(`cluster: ${what}…\n`);
    },
    onStop(stop) {
      stops.push(stop);
    },
    spawn(args, name, env = {}) {
      const child = spawnDevicehub(args, {
        name,
        env: { DH_LOG_LEVEL: process.env.DH_LOG_LEVEL ?? 'info', ...env },
        logFile: logFile(logDir, name.replaceAll(' ', '-')),
      });
      children.push(child);
      stops.push(() => child.stop());
      return child;
    },
    stopAll: () =>
      (stopped ??= (async () => {
        stopping = true;
        for (const stop of stops.reverse()) await Promise.race([stop().catch(() => {}), sleep(5000)]);
        const killed = await stopDescendants(2000);
        if (killed.length > 0)
          process.stderr.write(
            `cluster: killed what did not stop in time: ${killed.map((p) => p.command.slice(0, 80)).join('; ')}\n`,
          );
      })()),
  };
}

/** Prints where everything is, and tells a parent process (the tests) the same. */
function announce(
  o: ClusterOptions,
  servers: ClusterServers,
  api: {
    url: string;
    adminKey: string;
    gateways: string[];
    nodeMetrics: string[];
    cdn: string[];
    clips: { ezvizUrl: string | undefined; metrics: string[] };
    recognizeMetrics: string[];
    monitoring: { prometheusUrl: string; alertmanagerUrl: string; logStore: string };
  },
): void {
  const summary = {
    url: api.url,
    adminKey: api.adminKey,
    redisUrl: servers.redisUrl,
    databaseUrl: servers.databaseUrl,
    databasePoolUrl: servers.databasePoolUrl,
    databaseReplicaUrl: servers.databaseReplicaUrl,
    caFile: servers.pki.caFile,
    mqttUrl: servers.mqttUrl,
    mqttMtlsUrl: servers.mqttMtlsUrl,
    kafkaBrokers: servers.kafkaBrokers,
    frps: servers.frpsAddress,
    gateways: api.gateways,
    cdn: api.cdn,
    nodeMetrics: api.nodeMetrics,
    ezvizUrl: api.clips.ezvizUrl,
    clipMetrics: api.clips.metrics,
    recognizeMetrics: api.recognizeMetrics,
    ...api.monitoring,
    logs: logFile(o.logDir, '*'),
  };
  process.stdout.write(
    [
      `DeviceHub cluster up: ${o.nodes} hub node(s), ${o.gateways} gateway(s), Redis ${o.redis}, ${o.brokers} Kafka broker(s)`,
      `  API (balanced)   ${api.url}   /v1/docs, /metrics, /ui/`,
      `  fleet CA         ${servers.pki.caFile}   (trust it: curl --cacert ${servers.pki.caFile} ${api.url}/healthz)`,
      `  admin key        ${api.adminKey}`,
      `  Redis            ${servers.redisUrl}`,
      `  PostgreSQL       ${servers.databaseUrl}   (PgBouncer ${servers.databasePoolUrl}, replica ${servers.databaseReplicaUrl})`,
      `  MQTT (edges)     ${servers.mqttUrl} (password over TLS), ${servers.mqttMtlsUrl} (certificate)`,
      `  Kafka            ${servers.kafkaBrokers.join(',') || '—'}${servers.kafkaBrokers.length > 0 ? ' (SASL_SSL, SCRAM-SHA-512: an edge logs in as its id and secret)' : ''}`,
      `  frps             ${servers.frpsAddress} (TLS)`,
      `  CDN caches       ${api.cdn.join(' ')}   (nginx in front of the API; the devicehub configuration's cdn pool)`,
      `  node metrics     ${api.nodeMetrics.join(' ')}`,
      `  clip workers     ${api.clips.metrics.join(' ') || '—'}${api.clips.ezvizUrl ? `   (Ezviz stand-in ${api.clips.ezvizUrl}, for tests and demos only)` : ''}`,
      `  recognition      ${api.recognizeMetrics.join(' ') || '—'}`,
      `  Prometheus       ${api.monitoring.prometheusUrl}   (Alertmanager ${api.monitoring.alertmanagerUrl}, to the API's webhook)`,
      `  log store        ${api.monitoring.logStore}   (VictoriaLogs: every process's log lines)`,
      `  logs             ${summary.logs}`,
      'Ctrl-C stops it all.',
      '',
    ].join('\n'),
  );
  process.send?.({ ready: true, ...summary });
}

/** Runs until SIGINT, SIGTERM or one of the devicehub processes exiting on its own. */
function untilStopped(parts: RunningParts, log: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
    for (const child of parts.children) {
      void child.exited.then((code) => {
        if (parts.stopping) return;
        log.error({ code, pid: child.child.pid }, 'a process exited; stopping');
        process.stderr.write(`cluster: ${child.child.spawnfile} exited (${code}); stopping\n`);
        resolve();
      });
    }
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
