/**
 * Simulated edges over TLS (issue 14, item 2): each with its own certificate on the broker's mTLS
 * listener, or its password on the TLS listener, the broker's certificate checked against the
 * fleet CA; every edge is born through the link, which logs in with its own certificate.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type MosquittoServer, startMosquitto, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { type CertificateFiles, startTestPki, type TestPki } from '../../infra/tls.ts';
import { LINK_USER } from '../broker/mod.ts';
import { MqttLink } from '../link/mod.ts';
import type { SimMqttTls } from './mqtt-edges.ts';
import { Simulator, simulatedEdgeId, simulatedPassword } from './simulator.ts';

const EDGES = 10;
const t = useRedis();
let broker: MosquittoServer;
let pki: TestPki;
let linkCert: CertificateFiles;
const certificates = new Map<string, { cert: string; key: string }>();

before(async () => {
  pki = await startTestPki();
  const users: Record<string, string> = { [LINK_USER]: 'hub-secret' };
  for (let i = 0; i < EDGES; i++) {
    const id = simulatedEdgeId(i);
    users[id] = simulatedPassword(id);
    const issued = await pki.issueEdge(id);
    certificates.set(id, { cert: issued.certificatePem, key: issued.privateKeyPem });
  }
  broker = await startMosquitto({
    users,
    tls: { caFile: pki.caFile, certFile: pki.server.certFile, keyFile: pki.server.keyFile },
  });
  linkCert = await pki.issueService(LINK_USER);
});
after(async () => {
  await broker?.stop();
});

async function run(url: string, mqttTls: SimMqttTls): Promise<void> {
  const keyspace = t.keyspace();
  await using _node = await t.hub(keyspace);
  await using link = await new MqttLink({
    url: broker.tls!.hubUrl,
    username: LINK_USER,
    tls: { ca: pki.ca.certificatePem, cert: linkCert.certificatePem, key: linkCert.privateKeyPem },
    bus: t.bus(keyspace, t.connect()),
    clientId: `sim-tls-${keyspace.prefix}`,
    group: keyspace.prefix,
  }).start();
  await using sim = await new Simulator({ url, edges: EDGES, mqttTls, speed: 30 }).start();
  await waitFor(() => sim.stats.connected === EDGES, { message: 'every edge connected over TLS' });
  await waitFor(
    async () => {
      for (let i = 0; i < EDGES; i++) {
        if ((await t.edgeState(keyspace, simulatedEdgeId(i)))?.shadow.birth === undefined) return false;
      }
      return true;
    },
    { timeoutMs: 20_000, message: 'every edge born' },
  );
  assert.equal(sim.stats.publishErrors, 0);
  assert.ok(link.stats.enqueued >= EDGES);
}

describe('simulated edges over TLS', { timeout: 60_000 }, () => {
  it('log in with their own certificates on the mTLS listener', async () => {
    await run(broker.tls!.mtlsUrl, {
      ca: pki.ca.certificatePem,
      certificate: (id) => certificates.get(id)!,
    });
  });

  it('log in with their passwords on the TLS listener', async () => {
    await run(broker.tls!.tlsUrl, { ca: pki.ca.certificatePem });
  });
});
