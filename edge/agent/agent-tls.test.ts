/**
 * The agent's MQTT uplink over TLS (issue 14, item 2) against a real mosquitto: with its own
 * certificate on the mTLS listener, or with its password on the TLS listener, checking the broker's
 * certificate against the fleet CA; messages reach the edge's actor through the hub's link, which
 * logs in with its own certificate.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type MosquittoServer, spawnDevicehub, startMosquitto, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { type CertificateFiles, startTestPki, type TestPki } from '../../infra/tls.ts';
import { LINK_USER } from '../broker/mod.ts';
import { MqttLink } from '../link/mod.ts';
import { agentE5, birth, reading, users } from './testdata/agent-hub.ts';
import { checkMqttUrl, mqttTlsOptions } from './uplink.ts';

const t = useRedis();
let pki: TestPki;
let broker: MosquittoServer;
let linkCert: CertificateFiles;

before(async () => {
  pki = await startTestPki();
  broker = await startMosquitto({
    users,
    tls: { caFile: pki.caFile, certFile: pki.server.certFile, keyFile: pki.server.keyFile },
  });
  linkCert = await pki.issueService(LINK_USER);
});
after(async () => {
  await broker?.stop();
});

async function hub(keyspace: ReturnType<typeof t.keyspace>) {
  const node = await t.hub(keyspace);
  const link = await new MqttLink({
    url: broker.tls!.hubUrl,
    username: LINK_USER,
    tls: { ca: pki.ca.certificatePem, cert: linkCert.certificatePem, key: linkCert.privateKeyPem },
    bus: t.bus(keyspace, t.connect()),
  }).start();
  return {
    link,
    async [Symbol.asyncDispose]() {
      await link.stop();
      await node.stop();
    },
  };
}

describe('the agent over TLS', { timeout: 60_000 }, () => {
  it('sends with its own certificate on the mTLS listener', async () => {
    const keyspace = t.keyspace();
    await using h = await hub(keyspace);
    const cert = await pki.issueEdge('E-5');
    await using agent = await agentE5({
      brokerUrl: broker.tls!.mtlsUrl,
      password: 'not-checked-on-the-mtls-listener',
      brokerTls: { ca: pki.ca.certificatePem, cert: cert.certificatePem, key: cert.privateKeyPem },
    }).start();
    agent.status(reading(4));
    await waitFor(async () => (await t.edgeState(keyspace, 'E-5'))?.shadow.status?.floor === 4, {
      message: 'the status over mTLS applied',
    });
    assert.ok(h.link.stats.enqueued >= 2, 'birth and status came through the link');
  });

  it('sends with its password on the TLS listener', async () => {
    const keyspace = t.keyspace();
    await using _h = await hub(keyspace);
    await using agent = await agentE5({
      brokerUrl: broker.tls!.tlsUrl,
      brokerTls: { ca: pki.ca.certificatePem },
    }).start();
    agent.status(reading(6));
    await waitFor(async () => (await t.edgeState(keyspace, 'E-5'))?.shadow.status?.floor === 6, {
      message: 'the status over TLS with a password applied',
    });
  });

  it('speaks MQTT in clear only to loopback', () => {
    for (const url of [
      'mqtt://127.0.0.1:1883',
      'mqtt://localhost:1883',
      'ws://[::1]:9001',
      'mqtts://broker:8883',
    ])
      assert.doesNotThrow(() => checkMqttUrl(url), url);
    for (const url of [
      'mqtt://broker-1:1883',
      'mqtt://10.0.0.5:1883',
      'ws://broker:9001',
      'tcp://broker:1883',
    ])
      assert.throws(() => checkMqttUrl(url), /INSECURE_URL|in clear/, url);
  });

  it('always checks an mqtts:// broker’s certificate, TLS 1.2 at least, and adds nothing to mqtt://', () => {
    assert.deepEqual(mqttTlsOptions('mqtt://127.0.0.1:1883', { ca: 'x' }), {});
    const options = mqttTlsOptions('mqtts://broker:8883', { ca: 'x' }) as Record<string, unknown>;
    assert.equal(options.rejectUnauthorized, true);
    assert.equal(options.minVersion, 'TLSv1.2');
    assert.equal(options.ca, 'x');
  });

  it('runs as `devicehub agent` with caFile, certFile and keyFile: online in the hub over mTLS', async () => {
    const keyspace = t.keyspace();
    await using _h = await hub(keyspace);
    const cert = await pki.issueEdge('E-5');
    const dir = mkdtempSync(join(tmpdir(), 'dh-agent-tls-'));
    const config = join(dir, 'agent.json');
    writeFileSync(
      config,
      JSON.stringify({
        edgeId: 'E-5',
        password: 'not-checked-on-the-mtls-listener',
        birth,
        dataDir: join(dir, 'data'),
        brokerUrl: broker.tls!.mtlsUrl,
        caFile: pki.caFile,
        certFile: cert.certFile,
        keyFile: cert.keyFile,
      }),
    );
    await using agent = spawnDevicehub(['agent', '--config', config], { env: { DH_LOG_LEVEL: 'warn' } });
    await agent.ready;
    await waitFor(
      async () => {
        const s = await t.edgeState(keyspace, 'E-5');
        return s?.online === true && s.shadow.birth !== undefined;
      },
      { timeoutMs: 20_000, message: 'E-5 online in the hub over mTLS' },
    );
  });
});
