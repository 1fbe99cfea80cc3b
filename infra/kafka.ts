/**
 * Runs a real single-node Apache Kafka (KRaft: broker and controller in one JVM) on free loopback
 * ports, from the jars `infra/provision.sh` fetched with mvn. Takes a few seconds to start:
 * start it once per test file.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { type ServerProcess, startServerProcess, withControls } from './server-process.ts';

/** `restart` comes back on the same ports and data. */
export interface KafkaServer extends ServerProcess, AsyncDisposable {
  /** `127.0.0.1:<port>`, for kafkajs `brokers`. */
  readonly broker: string;
  readonly dir: string;
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

export async function startKafka(options: { partitions?: number } = {}): Promise<KafkaServer> {
  const jars = kafkaJarsDir();
  const [port, controllerPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'devicehub-kafka-'));
  const config = join(dir, 'server.properties');
  writeFileSync(
    config,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${join(dir, 'data')}`,
      `num.partitions=${options.partitions ?? 4}`,
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=4',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'auto.create.topics.enable=true',
      '',
    ].join('\n'),
  );
  const java = (args: string[]) =>
    spawn('java', ['-Xms256m', '-Xmx512m', '-XX:+UseSerialGC', '-cp', join(jars, '*'), ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  const format = java(['kafka.tools.StorageTool', 'format', '-t', 'ZGV2aWNlaHViLXRlc3RzAA', '-c', config]);
  const formatted = await new Promise<number | null>((resolve) => format.once('exit', resolve));
  if (formatted !== 0) throw new Error(`Cannot start Kafka: formatting ${dir} failed (${formatted})`);
  let stderr = '';
  const server = await startServerProcess({
    name: 'Kafka',
    port,
    timeoutMs: 60_000,
    spawnServer: () => {
      const proc = java(['kafka.Kafka', config]);
      stderr = '';
      proc.stderr?.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-2000);
      });
      return proc;
    },
    describeExit: (code) => `Kafka exited with ${code}: ${stderr}`,
  });
  return withControls(server, {
    broker: `127.0.0.1:${port}`,
    dir,
  });
}
