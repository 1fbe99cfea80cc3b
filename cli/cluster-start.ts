/**
 * The steps of `devicehub cluster` (cli/cluster-command.ts), in the order it runs them: the
 * servers (Redis, PostgreSQL, mosquitto, frps, Kafka), the hub nodes, the links, and the gateways
 * behind a balancer. Each step registers what it started with the command's parts, which stop
 * them in reverse order.
 */
import { randomBytes } from 'node:crypto';
import { createKeyspace, type Keyspace } from '../bus/mod.ts';
import { LINK_USER } from '../edge/broker/mod.ts';
import { createApiKey, openDatabase } from '../gateway/mod.ts';
import { keyspaceArgs } from '../infra/hub-process.ts';
import {
  type DevicehubProcess,
  freePort,
  startFrps,
  startKafkaCluster,
  startMosquitto,
  startPostgres,
  startRedisServer,
} from '../infra/mod.ts';
import { startRedisCluster } from '../infra/redis-cluster.ts';
import { startTcpBalancer } from '../infra/tcp-balancer.ts';

/** What the steps start things with. */
export interface ClusterParts {
  /** Says what the command does now (log and stderr). */
  step(what: string): void;
  /** Something to stop; the command stops them in reverse order. */
  onStop(stop: () => Promise<unknown>): void;
  /** A devicehub process, logging to <log-dir>/<name>.log, stopped with the rest. */
  spawn(args: string[], name: string): DevicehubProcess;
}

export interface ClusterServers {
  readonly redisUrl: string;
  /** The Redis URL and keyspace flags every devicehub process gets. */
  readonly cliArgs: string[];
  readonly databaseUrl: string;
  readonly mqttUrl: string;
  /** The link user's broker password. */
  readonly hubPassword: string;
  /** mosquitto's dynamic-security admin password (the gateways manage edge identities with it). */
  readonly brokerAdminPassword: string;
  readonly frpsAddress: string;
  readonly frpsTcpmuxPort: number | undefined;
  /** Empty with --kafka-brokers 0. */
  readonly kafkaBrokers: string[];
}

/** Redis (one server or a Redis Cluster), PostgreSQL, mosquitto, frps and, unless 0 brokers, Kafka. */
export async function startServers(
  parts: ClusterParts,
  o: { redis: 'single' | 'cluster'; brokers: number },
): Promise<ClusterServers> {
  const redis = await startRedis(parts, o.redis);
  const support = await startSupportServers(parts);
  let kafkaBrokers: string[] = [];
  if (o.brokers > 0) {
    parts.step(`starting Kafka (${o.brokers} KRaft brokers)`);
    const kafka = await startKafkaCluster({ brokers: o.brokers });
    parts.onStop(() => kafka.stop());
    kafkaBrokers = kafka.brokers;
  }
  return { ...redis, ...support, kafkaBrokers };
}

async function startRedis(parts: ClusterParts, mode: 'single' | 'cluster') {
  parts.step(mode === 'cluster' ? 'starting a Redis Cluster (3 masters, 3 replicas)' : 'starting Redis');
  const redisServer = mode === 'cluster' ? await startRedisCluster() : await startRedisServer();
  parts.onStop(() => redisServer.stop());
  const keyspace: Keyspace = createKeyspace({
    prefix: 'dh',
    shards: 1024,
    tagGroups: mode === 'cluster' ? 16 : 1,
  });
  return { redisUrl: redisServer.url, cliArgs: keyspaceArgs(redisServer.url, keyspace) };
}

async function startSupportServers(parts: ClusterParts) {
  parts.step('starting PostgreSQL, mosquitto and frps');
  const postgres = await startPostgres();
  parts.onStop(() => postgres.stop());
  const databaseUrl = await postgres.createDatabase('devicehub');
  const hubPassword = randomBytes(12).toString('hex');
  const mosquitto = await startMosquitto({ users: { [LINK_USER]: hubPassword } });
  parts.onStop(() => mosquitto.stop());
  const frps = await startFrps({ token: randomBytes(12).toString('hex'), tcpmux: true });
  parts.onStop(() => frps.stop());
  return {
    databaseUrl,
    mqttUrl: mosquitto.url,
    hubPassword,
    brokerAdminPassword: mosquitto.admin.password,
    frpsAddress: frps.address,
    frpsTcpmuxPort: frps.tcpmuxPort,
  };
}

/** The hub nodes node-1 … node-N, each with /metrics on a port of its own; returns those URLs. */
export async function startHubNodes(
  parts: ClusterParts,
  servers: ClusterServers,
  nodes: number,
): Promise<string[]> {
  const metrics: string[] = [];
  const hubs = [];
  for (let i = 1; i <= nodes; i++) {
    const metricsPort = await freePort();
    metrics.push(`http://127.0.0.1:${metricsPort}/metrics`);
    hubs.push(
      parts.spawn(
        ['node', ...servers.cliArgs, '--id', `node-${i}`, '--metrics-port', String(metricsPort)],
        `hub node-${i}`,
      ).ready,
    );
  }
  await Promise.all(hubs);
  return metrics;
}

/** The MQTT link and, with Kafka, the Kafka link. */
export async function startLinks(parts: ClusterParts, servers: ClusterServers): Promise<void> {
  const links = [
    parts.spawn(
      [
        'link',
        'mqtt',
        ...servers.cliArgs,
        '--url',
        servers.mqttUrl,
        '--password',
        servers.hubPassword,
        '--client-id',
        'link-mqtt-1',
      ],
      'mqtt link',
    ).ready,
  ];
  if (servers.kafkaBrokers.length > 0) {
    links.push(
      parts.spawn(
        ['link', 'kafka', ...servers.cliArgs, '--brokers', servers.kafkaBrokers.join(',')],
        'kafka link',
      ).ready,
    );
  }
  await Promise.all(links);
}

/** An admin key in the shared database, the gateways, and the balancer in front of them. */
export async function startGateways(
  parts: ClusterParts,
  servers: ClusterServers,
  o: { gateways: number; port: number },
): Promise<{ url: string; adminKey: string; gateways: string[] }> {
  const database = await openDatabase({ url: servers.databaseUrl });
  const { key: adminKey } = await createApiKey(database.db, { name: 'cluster-admin', scope: 'admin' });
  await database.close();
  const backends: { host: string; port: number }[] = [];
  const started = [];
  for (let i = 1; i <= o.gateways; i++) {
    const gatewayPort = await freePort();
    backends.push({ host: '127.0.0.1', port: gatewayPort });
    started.push(parts.spawn(gatewayArgs(servers, gatewayPort), `gateway-${i}`).ready);
  }
  await Promise.all(started);
  const balancer = await startTcpBalancer({ port: o.port, backends }).catch(() =>
    startTcpBalancer({ port: 0, backends }),
  );
  parts.onStop(() => balancer.close());
  return {
    url: `http://127.0.0.1:${balancer.port}`,
    adminKey,
    gateways: backends.map((b) => `http://${b.host}:${b.port}`),
  };
}

function gatewayArgs(servers: ClusterServers, port: number): string[] {
  return [
    'gateway',
    ...servers.cliArgs,
    '--port',
    String(port),
    '--database-url',
    servers.databaseUrl,
    '--tunnel-server',
    servers.frpsAddress,
    '--tunnel-mux',
    `${servers.frpsTcpmuxPort}:tunnels.devicehub.local`,
    // Registering, rotating and deregistering edges tell mosquitto (its dynamic security).
    ...['--broker-admin-url', servers.mqttUrl, '--broker-admin-password', servers.brokerAdminPassword],
  ];
}
