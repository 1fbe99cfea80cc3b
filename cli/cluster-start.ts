/**
 * The steps of `devicehub cluster` (cli/cluster-command.ts), in the order it runs them: the
 * servers (Redis, PostgreSQL, mosquitto, frps, Kafka), the hub nodes, the links, the gateways
 * behind a balancer, and the alarm clip workers with the Ezviz stand-in they fetch clips from. Each step registers what it started with the command's parts, which stop
 * them in reverse order. Everything speaks TLS with one fleet PKI (a CA made for the run): mosquitto
 * takes edges on its mTLS and password-over-TLS listeners and the links on its hub mTLS listener,
 * each link with its own certificate; Kafka is SASL_SSL (SCRAM-SHA-512, ACLs); frps takes frpc
 * over TLS only; the gateways serve HTTPS, sign edges' certificates with the same CA the broker
 * checks and write the CRL mosquitto reads. Plain text remains only on loopback for the gateways'
 * dynamic-security admin connection to mosquitto.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyspace, type Keyspace } from '../bus/mod.ts';
import { LINK_USER } from '../edge/broker/mod.ts';
import { createApiKey, openDatabase } from '../gateway/mod.ts';
import { keyspaceArgs } from '../infra/hub-process.ts';
import {
  type DevicehubProcess,
  freePorts,
  startFrps,
  startKafkaCluster,
  startMosquitto,
  startPostgres,
  startRedisServer,
  startS3Proxy,
} from '../infra/mod.ts';
import { startRedisCluster } from '../infra/redis-cluster.ts';
import { startTcpBalancer } from '../infra/tcp-balancer.ts';
import { startTestPki, type TestPki } from '../infra/tls.ts';

/** What the steps start things with. */
export interface ClusterParts {
  /** Says what the command does now (log and stderr). */
  step(what: string): void;
  /** Something to stop; the command stops them in reverse order. */
  onStop(stop: () => Promise<unknown>): void;
  /** A devicehub process, logging to <log-dir>/<name>.log, stopped with the rest; `env` adds to its environment (secrets). */
  spawn(args: string[], name: string, env?: Record<string, string>): DevicehubProcess;
}

export interface ClusterServers {
  readonly redisUrl: string;
  /** The Redis URL and keyspace flags every devicehub process gets. */
  readonly cliArgs: string[];
  readonly databaseUrl: string;
  /** The same database through PgBouncer (transaction pooling): what the gateways use. */
  readonly databasePoolUrl: string;
  /** The same database on the streaming read replica: the gateways' heavy reads. */
  readonly databaseReplicaUrl: string;
  /** The fleet PKI: its CA (`pki.caFile`) is what every client trusts. */
  readonly pki: TestPki;
  /** The CRL the gateways write and mosquitto's mTLS listener reads. */
  readonly crlFile: string;
  /** mosquitto's edge listeners: passwords over TLS, and certificates (mutual TLS). */
  readonly mqttUrl: string;
  readonly mqttMtlsUrl: string;
  /** mosquitto's hub listener (mutual TLS), where the links log in with their certificates. */
  readonly mqttHubUrl: string;
  /** mosquitto's plaintext loopback listener: only the gateways' dynamic-security admin uses it. */
  readonly mqttAdminUrl: string;
  /** mosquitto's dynamic-security admin password (the gateways manage edge identities with it). */
  readonly brokerAdminPassword: string;
  readonly frpsAddress: string;
  readonly frpsTcpmuxPort: number | undefined;
  /** Empty with --kafka-brokers 0. SASL_SSL listeners. */
  readonly kafkaBrokers: string[];
  /** The hub's SCRAM-SHA-512 login (links and the gateways' credential admin), with Kafka. */
  readonly kafkaHub: { readonly username: string; readonly password: string } | undefined;
  /** The artifacts' object store every gateway shares: a bucket on S3Proxy (`s3://…`). */
  readonly objectStore: string;
  /** Its access key, given to the gateways in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. */
  readonly objectStoreEnv: Record<string, string>;
}

/** Redis (one server or a Redis Cluster), PostgreSQL, mosquitto, frps and, unless 0 brokers, Kafka. */
export async function startServers(
  parts: ClusterParts,
  o: { redis: 'single' | 'cluster'; brokers: number },
): Promise<ClusterServers> {
  const redis = await startRedis(parts, o.redis);
  parts.step('making the fleet PKI (CA, server certificate, CRL)');
  const pki = await startTestPki();
  const crlFile = await pki.writeCrl([]);
  const support = await startSupportServers(parts, pki, crlFile);
  const objects = await startObjectStore(parts);
  let kafkaBrokers: string[] = [];
  let kafkaHub: ClusterServers['kafkaHub'];
  if (o.brokers > 0) {
    parts.step(`starting Kafka (${o.brokers} KRaft brokers, SASL_SSL)`);
    const kafka = await startKafkaCluster({ brokers: o.brokers, auth: { pki } });
    parts.onStop(() => kafka.stop());
    kafkaBrokers = kafka.brokers;
    kafkaHub = kafka.auth?.hub;
  }
  return { ...redis, ...support, ...objects, pki, crlFile, kafkaBrokers, kafkaHub };
}

/** S3Proxy (filesystem backend in a temporary folder) and the gateways' bucket on it. */
async function startObjectStore(parts: ClusterParts) {
  parts.step('starting S3Proxy (the artifacts’ object store)');
  const s3 = await startS3Proxy({ dir: mkdtempSync(join(tmpdir(), 'dh-cluster-s3-')) });
  parts.onStop(() => s3.stop());
  return {
    objectStore: await s3.createBucket('devicehub-artifacts'),
    objectStoreEnv: {
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    },
  };
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

async function startSupportServers(parts: ClusterParts, pki: TestPki, crlFile: string) {
  parts.step('starting PostgreSQL (a streaming replica, PgBouncer), mosquitto (TLS) and frps (TLS)');
  const postgres = await startPostgres({ replica: true, bouncer: true });
  parts.onStop(() => postgres.stop());
  const databaseUrl = await postgres.createDatabase('devicehub');
  const { bouncerUrl: databasePoolUrl, replicaUrl: databaseReplicaUrl } = postgres.urlsOf('devicehub');
  // The link logs in with its certificate (CN = LINK_USER); the password only makes its dynsec client.
  const mosquitto = await startMosquitto({
    users: { [LINK_USER]: randomBytes(12).toString('hex') },
    tls: { caFile: pki.caFile, certFile: pki.server.certFile, keyFile: pki.server.keyFile, crlFile },
  });
  parts.onStop(() => mosquitto.stop());
  const frps = await startFrps({
    token: randomBytes(12).toString('hex'),
    tcpmux: true,
    tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile },
  });
  parts.onStop(() => frps.stop());
  const tls = mosquitto.tls!;
  return {
    databaseUrl,
    databasePoolUrl: databasePoolUrl!,
    databaseReplicaUrl: databaseReplicaUrl!,
    mqttUrl: tls.tlsUrl,
    mqttMtlsUrl: tls.mtlsUrl,
    mqttHubUrl: tls.hubUrl,
    mqttAdminUrl: mosquitto.url,
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
  const ports = await freePorts(nodes);
  for (let i = 1; i <= nodes; i++) {
    const metricsPort = ports[i - 1]!;
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

/**
 * The MQTT link (its own certificate, the hub mTLS listener) and, with Kafka, the Kafka link
 * (SASL_SSL), each with /metrics on a port of its own; returns those URLs.
 */
export async function startLinks(parts: ClusterParts, servers: ClusterServers): Promise<string[]> {
  const cert = await servers.pki.issueService(LINK_USER);
  const ports = await freePorts(2);
  const metrics = ['--metrics-port', String(ports[0])];
  const links = [
    parts.spawn(
      [
        'link',
        'mqtt',
        ...servers.cliArgs,
        ...['--url', servers.mqttHubUrl, '--client-id', 'link-mqtt-1'],
        ...['--mqtt-ca', servers.pki.caFile, '--mqtt-cert', cert.certFile, '--mqtt-key', cert.keyFile],
        ...metrics,
      ],
      'mqtt link',
    ).ready,
  ];
  if (servers.kafkaBrokers.length > 0 && servers.kafkaHub !== undefined) {
    links.push(
      parts.spawn(
        [
          'link',
          'kafka',
          ...servers.cliArgs,
          ...['--brokers', servers.kafkaBrokers.join(',')],
          ...['--kafka-username', servers.kafkaHub.username, '--kafka-ca', servers.pki.caFile],
          ...['--metrics-port', String(ports[1])],
        ],
        'kafka link',
        { KAFKA_PASSWORD: servers.kafkaHub.password },
      ).ready,
    );
  }
  await Promise.all(links);
  return ports.slice(0, links.length).map((port) => `http://127.0.0.1:${port}/metrics`);
}

/** An admin key in the shared database, the gateways, and the balancer in front of them. */
export async function startGateways(
  parts: ClusterParts,
  servers: ClusterServers,
  o: { gateways: number; port: number; env?: Record<string, string> },
): Promise<{ url: string; adminKey: string; gateways: string[] }> {
  const database = await openDatabase({ url: servers.databaseUrl });
  const { key: adminKey } = await createApiKey(database.db, { name: 'cluster-admin', scope: 'admin' });
  await database.close();
  const backends: { host: string; port: number }[] = [];
  const started = [];
  const ports = await freePorts(o.gateways);
  for (let i = 1; i <= o.gateways; i++) {
    const gatewayPort = ports[i - 1]!;
    backends.push({ host: '127.0.0.1', port: gatewayPort });
    started.push(
      parts.spawn(gatewayArgs(servers, gatewayPort), `gateway-${i}`, {
        ...o.env,
        ...servers.objectStoreEnv,
        ...(servers.kafkaHub === undefined ? {} : { DH_KAFKA_ADMIN_PASSWORD: servers.kafkaHub.password }),
      }).ready,
    );
  }
  await Promise.all(started);
  const balancer = await startTcpBalancer({ port: o.port, backends }).catch(() =>
    startTcpBalancer({ port: 0, backends }),
  );
  parts.onStop(() => balancer.close());
  return {
    url: `https://127.0.0.1:${balancer.port}`,
    adminKey,
    gateways: backends.map((b) => `https://${b.host}:${b.port}`),
  };
}

function gatewayArgs(servers: ClusterServers, port: number): string[] {
  return [
    'gateway',
    ...servers.cliArgs,
    '--port',
    String(port),
    // Through PgBouncer; heavy reads on the replica (migrations ran on the primary itself, above).
    ...['--database-url', servers.databasePoolUrl, '--database-replica-url', servers.databaseReplicaUrl],
    '--tunnel-server',
    servers.frpsAddress,
    '--tunnel-mux',
    `${servers.frpsTcpmuxPort}:tunnels.devicehub.local`,
    // HTTPS with the PKI's server certificate (the balancer passes TLS through).
    ...['--tls-cert', servers.pki.server.certFile, '--tls-key', servers.pki.server.keyFile],
    // Edges' certificates signed by the CA mosquitto checks; revocations onto the CRL it reads.
    ...['--identity-dir', servers.pki.dir, '--identity-create', '--crl-file', servers.crlFile],
    // Artifacts in the S3Proxy bucket every gateway shares (its keys come in the environment).
    ...['--object-store', servers.objectStore],
    // The updates' TUF signing keys, one folder for every gateway (the first to start makes them).
    ...['--tuf-keys-dir', join(servers.pki.dir, 'tuf'), '--tuf-create'],
    // Alarm clips' links: one key for every gateway (the first to start makes it).
    ...['--clip-url-secret-file', join(servers.pki.dir, 'clip-url.key')],
    // Registering, rotating and deregistering edges tell mosquitto (its dynamic security) over
    // its plaintext listener, which is on loopback only.
    ...['--broker-admin-url', servers.mqttAdminUrl, '--broker-admin-password', servers.brokerAdminPassword],
    // … and Kafka: each edge's SCRAM user (DH_KAFKA_ADMIN_PASSWORD comes in the environment).
    ...(servers.kafkaHub === undefined
      ? []
      : [
          ...['--kafka-admin-brokers', servers.kafkaBrokers.join(',')],
          ...['--kafka-admin-user', servers.kafkaHub.username, '--kafka-admin-ca', servers.pki.caFile],
        ]),
  ];
}
