/**
 * Runs real Apache Kafka (KRaft: broker and controller in one JVM per node) on free loopback
 * ports, from the jars `infra/provision.sh` fetched with mvn: one broker, or a cluster of
 * several. Takes a few seconds to start: start it once per test file.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { freePorts } from './free-port.ts';
import {
  formatScramArgs,
  type KafkaAuth,
  type KafkaAuthOptions,
  type KafkaSecrets,
  kafkaAuth,
  kafkaSecrets,
  securityLines,
} from './kafka-security.ts';
import { type ServerProcess, startServerProcess, withControls } from './server-process.ts';
import { waitFor } from './wait-for.ts';

/** `restart` comes back on the same ports and data. */
export interface KafkaServer extends ServerProcess, AsyncDisposable {
  /** `127.0.0.1:<port>`, for kafkajs `brokers`. */
  readonly broker: string;
  readonly dir: string;
  /** Present when the broker was started with `auth`: `broker` is then its SASL_SSL listener. */
  readonly auth?: KafkaAuth;
}

export function kafkaJarsDir(): string {
  const pom = readFileSync(new URL('./kafka/pom.xml', import.meta.url), 'utf8');
  const version = /<artifactId>kafka_2\.13<\/artifactId>\s*<version>([^<]+)<\/version>/.exec(pom)?.[1];
  const dir = join(process.env.DEVICEHUB_CACHE ?? join(homedir(), '.cache', 'devicehub'), `kafka-${version}`);
  if (!existsSync(join(dir, '.complete'))) {
    throw new Error(
      `Cannot start Kafka: its jars are not in ${dir}. Run \`sh infra/provision.sh\` (fetches them with mvn).`,
    );
  }
  return dir;
}

export interface KafkaClusterOptions {
  /** Brokers, each also a KRaft controller (default 3: a quorum that survives one death). */
  readonly brokers?: number;
  readonly partitions?: number;
  /**
   * Authenticated mode (issue 14): SASL_SSL with SCRAM-SHA-512 and ACLs instead of PLAINTEXT
   * (see `infra/kafka-security.ts`). Without it the broker is the suite's plain one.
   */
  readonly auth?: KafkaAuthOptions;
}

/** Several brokers: the `brokers` list for kafkajs and each broker's controls. */
export interface KafkaCluster extends AsyncDisposable {
  readonly brokers: string[];
  readonly nodes: KafkaServer[];
  readonly auth?: KafkaAuth;
  stop(): Promise<void>;
}

/** One broker (and controller): replication factor 1, for the suite's plain Kafka tests. */
export async function startKafka(
  options: { partitions?: number; auth?: KafkaAuthOptions } = {},
): Promise<KafkaServer> {
  const cluster = await startKafkaCluster({ brokers: 1, ...options });
  return cluster.nodes[0]!;
}

/**
 * A KRaft cluster on loopback: every node is broker and controller. With 3 or more, topics are
 * created with replication factor 3 and `min.insync.replicas` 2, so a producer's `acks=all`
 * means two brokers hold the message and one broker may die without losing what was
 * acknowledged; unclean leader election stays off.
 */
export async function startKafkaCluster(options: KafkaClusterOptions = {}): Promise<KafkaCluster> {
  const jars = kafkaJarsDir();
  const n = options.brokers ?? 3;
  const perNode = options.auth?.legacyPlaintext ? 3 : 2;
  const picked = await freePorts(n * perNode);
  const ports: NodePorts[] = Array.from({ length: n }, (_, i) => {
    const [a, b, c] = picked.slice(i * perNode, (i + 1) * perNode);
    return [a!, b!, c];
  });
  const setup: ClusterSetup = {
    jars,
    n,
    replication: Math.min(n, 3),
    voters: ports.map(([, controller], i) => `${i + 1}@127.0.0.1:${controller}`).join(','),
    secrets: options.auth === undefined ? undefined : kafkaSecrets(),
    auth: options.auth,
    partitions: options.partitions ?? 4,
    root: mkdtempSync(join(tmpdir(), 'devicehub-kafka-')),
  };
  const nodes = await Promise.all(ports.map((nodePorts, i) => startNode(setup, i, nodePorts)));
  const clusterAuth = nodes[0]?.auth;
  if (n > 1)
    await allRegistered(
      nodes.map((node) => node.broker),
      clusterAuth,
    );
  const cluster: KafkaCluster = {
    brokers: nodes.map((node) => node.broker),
    nodes,
    ...(clusterAuth === undefined ? {} : { auth: clusterAuth }),
    stop: async () => {
      await Promise.all(nodes.map((node) => node.stop()));
    },
    [Symbol.asyncDispose]: () => cluster.stop(),
  };
  return cluster;
}

/** A node's client port, controller port and (with `legacyPlaintext`) PLAINTEXT port. */
type NodePorts = [port: number, controllerPort: number, legacyPort: number | undefined];

/** Where a node listens and keeps its data. */
interface NodeAt {
  readonly port: number;
  readonly controllerPort: number;
  readonly legacyPort: number | undefined;
  readonly dir: string;
}

/** What every node of a cluster shares. */
interface ClusterSetup {
  readonly jars: string;
  readonly n: number;
  readonly replication: number;
  /** `controller.quorum.voters`. */
  readonly voters: string;
  readonly secrets: KafkaSecrets | undefined;
  readonly auth: KafkaAuthOptions | undefined;
  readonly partitions: number;
  readonly root: string;
}

/** Node `i` (id i + 1): its configuration, its storage formatted, the broker started. */
async function startNode(
  setup: ClusterSetup,
  i: number,
  [port, controllerPort, legacyPort]: NodePorts,
): Promise<KafkaServer> {
  const { auth, secrets } = setup;
  const dir = setup.n === 1 ? setup.root : join(setup.root, `broker-${i + 1}`);
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'server.properties');
  writeFileSync(config, serverProperties(setup, i, { port, controllerPort, legacyPort, dir }));
  await formatStorage(
    setup.jars,
    [
      '-t',
      'ZGV2aWNlaHViLXRlc3RzAA',
      '-c',
      config,
      ...(secrets === undefined ? [] : formatScramArgs(secrets)),
    ],
    dir,
  );
  let stderr = '';
  const server = await startServerProcess({
    name: `Kafka broker ${i + 1}`,
    port,
    // A JVM's start on 2 cores that other work keeps busy (3 brokers of a cluster start at once):
    // over 60 s was seen once, a benchmark running beside the suite.
    timeoutMs: 120_000,
    spawnServer: () => {
      const proc = java(setup.jars, ['kafka.Kafka', config]);
      stderr = '';
      proc.stderr?.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-2000);
      });
      return proc;
    },
    describeExit: (code) => `Kafka broker ${i + 1} exited with ${code}: ${stderr}`,
  });
  const security =
    auth === undefined || secrets === undefined ? {} : { auth: kafkaAuth(auth, secrets, legacyPort) };
  return withControls(server, { broker: `127.0.0.1:${port}`, dir, ...security });
}

/** A JVM of the Kafka jars (stderr piped, for the reason it exited). */
/**
 * Formats a node's storage (kafka.tools.StorageTool). A failed format is tried once more (with
 * `--ignore-formatted`, in case the first got as far as writing): a CI run once saw it exit 1
 * with nothing to say why, so the error now carries what the tool printed each time.
 */
async function formatStorage(jars: string, args: string[], dir: string): Promise<void> {
  const said: string[] = [];
  for (const extra of [[], ['--ignore-formatted']]) {
    const format = java(jars, ['kafka.tools.StorageTool', 'format', ...args, ...extra], 'pipe');
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-1500);
    };
    format.stdout?.on('data', keep);
    format.stderr?.on('data', keep);
    const code = await new Promise<number | null>((resolve) => format.once('close', resolve));
    if (code === 0) return;
    said.push(`exit ${code}: ${output.replace(/^log4j:WARN.*$/gm, '').trim() || '(nothing printed)'}`);
  }
  throw new Error(`Cannot start Kafka: formatting ${dir} failed twice; ${said.join(' | ')}`);
}

function java(jars: string, args: string[], stdout: 'ignore' | 'pipe' = 'ignore') {
  return spawn('java', ['-Xms256m', '-Xmx512m', '-XX:+UseSerialGC', '-cp', join(jars, '*'), ...args], {
    stdio: ['ignore', stdout, 'pipe'],
  });
}

/** Node `i`'s server.properties: KRaft roles, its listeners, replication for the cluster's size. */
function serverProperties(
  { voters, auth, secrets, partitions, replication }: ClusterSetup,
  i: number,
  { port, controllerPort, legacyPort, dir }: NodeAt,
): string {
  return [
    'process.roles=broker,controller',
    `node.id=${i + 1}`,
    `controller.quorum.voters=${voters}`,
    ...(auth === undefined || secrets === undefined
      ? [
          `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
          `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
          'controller.listener.names=CONTROLLER',
          'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        ]
      : securityLines(auth, secrets, { port, controllerPort, ...(legacyPort ? { legacyPort } : {}) })),
    `log.dirs=${join(dir, 'data')}`,
    `num.partitions=${partitions}`,
    `default.replication.factor=${replication}`,
    `min.insync.replicas=${Math.min(replication, 2)}`,
    'unclean.leader.election.enable=false',
    `offsets.topic.replication.factor=${replication}`,
    'offsets.topic.num.partitions=4',
    `transaction.state.log.replication.factor=${replication}`,
    `transaction.state.log.min.isr=${Math.min(replication, 2)}`,
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=true',
    '',
  ].join('\n');
}

/**
 * Waits until every broker has registered with the controller quorum: a port that answers is not
 * yet a broker that can host replicas, and a topic (or the consumer offsets topic) created with
 * replication factor 3 before then fails, or a consumer group waits for its coordinator.
 */
async function allRegistered(brokers: string[], auth: KafkaAuth | undefined): Promise<void> {
  const security =
    auth === undefined
      ? {}
      : {
          ssl: { ca: [auth.ca] },
          sasl: { mechanism: 'scram-sha-512' as const, ...auth.hub },
        };
  const admin = new Kafka({
    brokers,
    logLevel: logLevel.NOTHING,
    clientId: 'devicehub-infra',
    ...security,
  }).admin();
  await admin.connect();
  try {
    await waitFor(
      async () => (await admin.describeCluster().catch(() => undefined))?.brokers.length === brokers.length,
      { timeoutMs: 60_000, intervalMs: 200, message: `all ${brokers.length} Kafka brokers registered` },
    );
  } finally {
    await admin.disconnect();
  }
}
