/**
 * deploy/kafka/start.sh, compose's Kafka node, run with the local Kafka jars (as one node, on
 * loopback): it formats with the hub's SCRAM user, serves SASL_SSL with the fleet PKI's
 * certificate, lets the hub in, refuses a client without credentials and a wrong password, and
 * keeps its storage (and the hub's user) across a restart. No PLAINTEXT listener unless asked.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { freePort, kafkaJarsDir, portOpen, waitFor } from '../infra/mod.ts';
import { startTestPki } from '../infra/tls.ts';

const script = fileURLToPath(new URL('./kafka/start.sh', import.meta.url));

describe('deploy/kafka/start.sh', { timeout: 240_000 }, () => {
  it('runs an authenticated KRaft node: the hub in over SASL_SSL, no credentials or a wrong password out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dh-kafka-deploy-'));
    const pki = await startTestPki({ dir: join(dir, 'pki') });
    const certs = join(dir, 'certs');
    mkdirSync(certs);
    // As deploy/secrets/README.md writes them: the key then the certificate, and the CA.
    writeFileSync(
      join(certs, 'keystore.pem'),
      `${pki.server.privateKeyPem.trim()}\n${pki.server.certificatePem.trim()}\n`,
    );
    copyFileSync(pki.caFile, join(certs, 'ca.crt'));
    const jars = kafkaJarsDir();
    const wrapper = (name: string, main: string) => {
      const file = join(dir, name);
      writeFileSync(
        file,
        `#!/bin/sh\nexec java -Xms256m -Xmx512m -XX:+UseSerialGC -cp "${jars}/*" ${main} "$@"\n`,
        {
          mode: 0o755,
        },
      );
      return file;
    };
    const [port, controllerPort] = [await freePort(), await freePort()];
    const hubPassword = randomBytes(16).toString('hex');
    const env = {
      ...process.env,
      CLUSTER_ID: 'ZGV2aWNlaHViLWthZmthAA',
      KAFKA_NODE_ID: '1',
      KAFKA_CONTROLLER_QUORUM_VOTERS: `1@127.0.0.1:${controllerPort}`,
      KAFKA_HOST: '127.0.0.1',
      KAFKA_BIND: '127.0.0.1',
      KAFKA_PORT: String(port),
      KAFKA_CONTROLLER_PORT: String(controllerPort),
      KAFKA_HUB_PASSWORD: hubPassword,
      KAFKA_BROKER_PASSWORD: randomBytes(16).toString('hex'),
      KAFKA_CONTROLLER_PASSWORD: randomBytes(16).toString('hex'),
      KAFKA_CERTS_DIR: certs,
      KAFKA_CONFIG_FILE: join(dir, 'server.properties'),
      KAFKA_LOG_DIRS: join(dir, 'data'),
      KAFKA_STORAGE_CMD: wrapper('kafka-storage', 'kafka.tools.StorageTool'),
      KAFKA_START_CMD: wrapper('kafka-start', 'kafka.Kafka'),
      KAFKA_DEFAULT_REPLICATION_FACTOR: '1',
      KAFKA_MIN_INSYNC_REPLICAS: '1',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
    };
    const client = (sasl?: { username: string; password: string }) =>
      new Kafka({
        brokers: [`127.0.0.1:${port}`],
        ssl: { ca: [readFileSync(pki.caFile, 'utf8')] },
        ...(sasl ? { sasl: { mechanism: 'scram-sha-512' as const, ...sasl } } : {}),
        connectionTimeout: 10_000,
        retry: { retries: 0 },
        logLevel: logLevel.NOTHING,
      });
    let node: ChildProcess | undefined;
    const startNode = async () => {
      let stderr = '';
      node = spawn('sh', [script], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      node.stderr?.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-2000);
      });
      await waitFor(() => portOpen(port), {
        timeoutMs: 90_000,
        message: `Kafka from start.sh listening; it said: ${stderr}`,
      });
    };
    const stopNode = async () => {
      if (node === undefined || node.exitCode !== null) return;
      const exited = new Promise((resolve) => node!.once('exit', resolve));
      node.kill('SIGTERM');
      await exited;
    };
    try {
      await startNode();
      const properties = readFileSync(env.KAFKA_CONFIG_FILE, 'utf8');
      assert.doesNotMatch(properties, /PLAINTEXT:\/\/|LEGACY:\/\//, 'no plaintext listener unless asked for');
      const hub = { username: 'hub@devicehub', password: hubPassword };
      // The hub (a super user) creates a topic and produces over SASL_SSL.
      const admin = client(hub).admin();
      await waitFor(
        async () =>
          admin
            .connect()
            .then(() => true)
            .catch(() => false),
        { timeoutMs: 60_000, message: 'the hub logged in' },
      );
      await admin.createTopics({
        topics: [{ topic: 'deploy-check', numPartitions: 1 }],
        waitForLeaders: true,
      });
      await admin.disconnect();
      const producer = client(hub).producer();
      await producer.connect();
      await producer.send({ topic: 'deploy-check', messages: [{ value: 'over SASL_SSL' }] });
      await producer.disconnect();
      // No credentials (TLS alone), and a wrong password: nothing produced.
      const produce = async (sasl?: { username: string; password: string }) => {
        const p = client(sasl).producer();
        try {
          await p.connect();
          await p.send({ topic: 'deploy-check', messages: [{ value: 'x' }] });
          return 'ok';
        } catch (error) {
          return (error as Error).message;
        } finally {
          await p.disconnect().catch(() => {});
        }
      };
      assert.notEqual(await produce(), 'ok');
      assert.notEqual(await produce({ ...hub, password: 'wrong' }), 'ok');
      assert.equal(await produce(hub), 'ok', 'the same helper produces with the hub’s login');

      // A restart keeps the formatted storage and the hub's user (--ignore-formatted).
      await stopNode();
      await startNode();
      const again = client(hub).admin();
      await waitFor(
        async () =>
          again
            .connect()
            .then(() => true)
            .catch(() => false),
        { timeoutMs: 60_000, message: 'the hub logged in after a restart' },
      );
      assert.ok((await again.listTopics()).includes('deploy-check'));
      await again.disconnect();
    } finally {
      await stopNode();
    }
  });
});
