/**
 * `devicehub cluster --nodes 3 --gateways 2`: the production topology of docker-compose.yml as
 * local processes, for a machine without Docker and for the tests: Redis (one server, or a
 * Redis Cluster of 3 masters and 3 replicas), PostgreSQL, mosquitto, a KRaft Kafka of several
 * brokers, frps, hub nodes (each with /metrics), an MQTT and a Kafka link, gateways sharing the
 * database, and a round-robin balancer in front of the gateways. Prints where everything is and
 * the admin key; runs until SIGTERM or Ctrl-C, then stops it all. Every devicehub process (and
 * the command itself, `cluster.log`) appends its pino JSON lines to <log-dir>/<process>.log.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createKeyspace, type Keyspace } from '../bus/mod.ts';
import { LINK_USER } from '../edge/broker/mod.ts';
import { createApiKey, openDatabase } from '../gateway/mod.ts';
import { keyspaceArgs } from '../infra/hub-process.ts';
import {
  type DevicehubProcess,
  freePort,
  spawnDevicehub,
  startFrps,
  startKafkaCluster,
  startMosquitto,
  startPostgres,
  startRedisServer,
} from '../infra/mod.ts';
import { ownChildProcesses, stopDescendants } from '../infra/process-tree.ts';
import { startRedisCluster } from '../infra/redis-cluster.ts';
import { startTcpBalancer } from '../infra/tcp-balancer.ts';
import { intFlag } from './config.ts';
import { logFile, processLogger } from './logger.ts';

export const clusterHelp = `devicehub cluster [options]   the docker-compose topology as local processes

  --nodes N            hub nodes (default 3)
  --gateways N         gateways behind the balancer (default 2)
  --redis single|cluster   one redis-server (AOF always), or 3 masters + 3 replicas (default single)
  --kafka-brokers N    KRaft brokers, replication factor min(N, 3) (default 3; 0: no Kafka link)
  --port N             the balancer's port (default 8080; a free one when taken)
  --log-dir DIR        where each process's log goes, <process>.log (default ./.devicehub/cluster/logs)`;

export async function clusterCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string' },
      gateways: { type: 'string' },
      redis: { type: 'string', default: 'single' },
      'kafka-brokers': { type: 'string' },
      port: { type: 'string' },
      'log-dir': { type: 'string', default: '.devicehub/cluster/logs' },
    },
  });
  const logDir = values['log-dir'];
  const log = processLogger('cluster', {}, { file: logFile(logDir, 'cluster') });
  const nodes = intFlag(values, 'nodes', 'DH_CLUSTER_NODES', 3);
  const gateways = intFlag(values, 'gateways', 'DH_CLUSTER_GATEWAYS', 2);
  const brokers = intFlag(values, 'kafka-brokers', 'DH_CLUSTER_KAFKA_BROKERS', 3);
  const port = intFlag(values, 'port', 'DH_CLUSTER_PORT', 8080);
  if (values.redis !== 'single' && values.redis !== 'cluster') {
    throw new RangeError(`--redis must be "single" or "cluster", got ${JSON.stringify(values.redis)}`);
  }
  const step = (what: string) => {
    log.info(what);
    process.stderr.write(`cluster: ${what}…\n`);
  };
  const stops: (() => Promise<unknown>)[] = [];
  const children: DevicehubProcess[] = [];
  let stopping = false;
  // Finished, failed or interrupted, nothing is left behind: Redis and the devicehub processes get
  // process groups of their own (a terminal's Ctrl-C reaches only this command, which stops them
  // in order: hub nodes before Redis), each stop gets 5 s, what is still running then is killed,
  // and so is whatever still runs when this process exits.
  ownChildProcesses();
  let stopped: Promise<void> | undefined;
  const stopAll = () =>
    (stopped ??= (async () => {
      stopping = true;
      for (const stop of stops.reverse()) await Promise.race([stop().catch(() => {}), sleep(5000)]);
      const killed = await stopDescendants(2000);
      if (killed.length > 0)
        process.stderr.write(
          `cluster: killed what did not stop in time: ${killed.map((p) => p.command.slice(0, 80)).join('; ')}\n`,
        );
    })());
  let up = false;
  const interruptStart = (signal: NodeJS.Signals) => {
    if (up) return;
    step(`${signal} while starting; stopping what has started`);
    void stopAll().finally(() => process.exit(1));
  };
  process.once('SIGINT', interruptStart);
  process.once('SIGTERM', interruptStart);
  try {
    step(values.redis === 'cluster' ? 'starting a Redis Cluster (3 masters, 3 replicas)' : 'starting Redis');
    const redisServer = values.redis === 'cluster' ? await startRedisCluster() : await startRedisServer();
    stops.push(() => redisServer.stop());
    const keyspace: Keyspace = createKeyspace({
      prefix: 'dh',
      shards: 1024,
      tagGroups: values.redis === 'cluster' ? 16 : 1,
    });
    const cliArgs = keyspaceArgs(redisServer.url, keyspace);

    step('starting PostgreSQL, mosquitto and frps');
    const postgres = await startPostgres();
    stops.push(() => postgres.stop());
    const databaseUrl = await postgres.createDatabase('devicehub');
    const hubPassword = randomBytes(12).toString('hex');
    const mosquitto = await startMosquitto({ users: { [LINK_USER]: hubPassword } });
    stops.push(() => mosquitto.stop());
    const frps = await startFrps({ token: randomBytes(12).toString('hex'), tcpmux: true });
    stops.push(() => frps.stop());
    let kafkaBrokers: string[] = [];
    if (brokers > 0) {
      step(`starting Kafka (${brokers} KRaft brokers)`);
      const kafka = await startKafkaCluster({ brokers });
      stops.push(() => kafka.stop());
      kafkaBrokers = kafka.brokers;
    }

    const spawn = (args: string[], name: string) => {
      const child = spawnDevicehub(args, {
        name,
        env: { DH_LOG_LEVEL: process.env.DH_LOG_LEVEL ?? 'info' },
        logFile: logFile(logDir, name.replaceAll(' ', '-')),
      });
      children.push(child);
      stops.push(() => child.stop());
      return child;
    };
    step(`starting ${nodes} hub node(s) and the links`);
    const metrics: string[] = [];
    const hubs = [];
    for (let i = 1; i <= nodes; i++) {
      const metricsPort = await freePort();
      metrics.push(`http://127.0.0.1:${metricsPort}/metrics`);
      hubs.push(
        spawn(
          ['node', ...cliArgs, '--id', `node-${i}`, '--metrics-port', String(metricsPort)],
          `hub node-${i}`,
        ).ready,
      );
    }
    await Promise.all(hubs);
    const links = [
      spawn(
        [
          'link',
          'mqtt',
          ...cliArgs,
          '--url',
          mosquitto.url,
          '--password',
          hubPassword,
          '--client-id',
          'link-mqtt-1',
        ],
        'mqtt link',
      ).ready,
    ];
    if (kafkaBrokers.length > 0) {
      links.push(
        spawn(['link', 'kafka', ...cliArgs, '--brokers', kafkaBrokers.join(',')], 'kafka link').ready,
      );
    }
    await Promise.all(links);

    step(`starting ${gateways} gateway(s) behind a balancer`);
    const database = await openDatabase({ url: databaseUrl });
    const { key: adminKey } = await createApiKey(database.db, { name: 'cluster-admin', scope: 'admin' });
    await database.close();
    const backends: { host: string; port: number }[] = [];
    const started = [];
    for (let i = 1; i <= gateways; i++) {
      const gatewayPort = await freePort();
      backends.push({ host: '127.0.0.1', port: gatewayPort });
      started.push(
        spawn(
          [
            'gateway',
            ...cliArgs,
            '--port',
            String(gatewayPort),
            '--database-url',
            databaseUrl,
            '--tunnel-server',
            frps.address,
            '--tunnel-mux',
            `${frps.tcpmuxPort}:tunnels.devicehub.local`,
            // Registering, rotating and deregistering edges tell mosquitto (its dynamic security).
            ...['--broker-admin-url', mosquitto.url, '--broker-admin-password', mosquitto.admin.password],
          ],
          `gateway-${i}`,
        ).ready,
      );
    }
    await Promise.all(started);
    const balancer = await startTcpBalancer({ port, backends }).catch(() =>
      startTcpBalancer({ port: 0, backends }),
    );
    stops.push(() => balancer.close());
    const url = `http://127.0.0.1:${balancer.port}`;

    const summary = {
      url,
      adminKey,
      redisUrl: redisServer.url,
      databaseUrl,
      mqttUrl: mosquitto.url,
      kafkaBrokers,
      frps: frps.address,
      gateways: backends.map((b) => `http://${b.host}:${b.port}`),
      nodeMetrics: metrics,
      logs: logFile(logDir, '*'),
    };
    process.stdout.write(
      [
        `DeviceHub cluster up: ${nodes} hub node(s), ${gateways} gateway(s), Redis ${values.redis}, ${brokers} Kafka broker(s)`,
        `  API (balanced)   ${url}   /v1/docs, /metrics, /ui/`,
        `  admin key        ${adminKey}`,
        `  Redis            ${redisServer.url}`,
        `  PostgreSQL       ${databaseUrl}`,
        `  MQTT             ${mosquitto.url} (user hub)`,
        `  Kafka            ${kafkaBrokers.join(',') || '—'}`,
        `  frps             ${frps.address}`,
        `  node metrics     ${metrics.join(' ')}`,
        `  logs             ${summary.logs}`,
        'Ctrl-C stops it all.',
        '',
      ].join('\n'),
    );
    process.send?.({ ready: true, ...summary });
    up = true;

    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
      for (const child of children) {
        void child.exited.then((code) => {
          if (stopping) return;
          log.error({ code, pid: child.child.pid }, 'a process exited; stopping');
          process.stderr.write(`cluster: ${child.child.spawnfile} exited (${code}); stopping\n`);
          resolve();
        });
      }
    });
  } finally {
    step('stopping');
    await stopAll();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
