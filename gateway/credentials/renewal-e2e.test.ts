/**
 * Certificate renewal through the agent, end to end: the fleet CA in files shared by a real
 * gateway (which signs) and a real mosquitto (whose mTLS listener checks), an MQTT link on its own
 * certificate, and the agent on a certificate two thirds through its life. The agent renews with a
 * CSR over its own credentials, keeps the new key to itself and reconnects with the new certificate:
 * the broker, restarted with the old one on its CRL, still takes the agent's messages, and so does
 * a restarted agent.
 */
// Redis Cluster pass: once (what this tests is certificate renewal over HTTPS; its Redis use is incidental).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EdgeAgent } from '../../edge/agent/mod.ts';
import { LINK_USER } from '../../edge/broker/mod.ts';
import { birthOf, MqttLink } from '../../edge/mod.ts';
import { freePort, startMosquitto, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { startTestPki } from '../../infra/tls.ts';
import { createApiKey } from '../auth.ts';
import { openDatabase } from '../db/database.ts';
import { createGateway, serveGateway } from '../gateway.ts';

const t = useRedis();
const DAY = 86_400_000;

describe('certificate renewal through the agent', { timeout: 90_000 }, () => {
  it('renews a certificate past two thirds of its life with a CSR, and the broker takes the new one', async () => {
    const keyspace = t.keyspace();
    const pki = await startTestPki();
    const crlFile = await pki.writeCrl([]);
    await using broker = await startMosquitto({
      // The link user exists from the start; it logs in by its certificate (CN), not this password.
      users: { [LINK_USER]: 'unused-on-mtls' },
      tls: { caFile: pki.caFile, certFile: pki.server.certFile, keyFile: pki.server.keyFile, crlFile },
    });
    await using database = await openDatabase();
    await using gateway = await createGateway({
      database,
      bus: t.bus(keyspace, t.connect()),
      broker: { url: broker.url, ...broker.admin, reconcileMs: 0 },
      // The gateway signs with the same CA the broker checks against (and makes its sealing key there).
      identity: { dir: pki.dir, create: true },
    });
    const { key } = await createApiKey(database.db, { name: 'ops', scope: 'admin' });
    const registered = await gateway.app.request('/v1/edges', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'N-1' }),
    });
    const { secret } = (await registered.json()) as { secret: string };
    // The configuration service is served only once the agent is connected on its old certificate.
    const port = await freePort();
    await using _node = await t.hub(keyspace);
    const linkCert = await pki.issueService(LINK_USER);
    const link = await new MqttLink({
      url: broker.tls!.hubUrl,
      username: LINK_USER,
      tls: { ca: pki.ca.certificatePem, cert: linkCert.certificatePem, key: linkCert.privateKeyPem },
      bus: t.bus(keyspace, t.connect()),
    }).start();
    await using _link = { [Symbol.asyncDispose]: () => link.stop() };

    // Issued 2.1 days ago for 3 days: past two thirds of its life, still valid.
    const old = await pki.issueEdge('N-1', { validityDays: 3, now: new Date(Date.now() - 2.1 * DAY) });
    const dataDir = mkdtempSync(join(tmpdir(), 'renewal-agent-'));
    const options = {
      edgeId: 'N-1',
      password: secret,
      birth: birthOf('N-1'),
      dataDir,
      configUrl: `http://127.0.0.1:${port}`,
      brokerUrl: broker.tls!.mtlsUrl,
      brokerTls: { ca: pki.ca.certificatePem, cert: old.certificatePem, key: old.privateKeyPem },
      // Back soon after the broker's restart below (the default waits up to 15 s between attempts);
      // an alarm sent before the link has subscribed again is refused with PUBACK 0x10 and sent again.
      reconnect: { baseMs: 100, capMs: 1000 },
    };
    const agent = await new EdgeAgent(options).start();
    await using served = await (async () => {
      agent.alarm({ alarm: 'before-renewal', phase: 'start', floor: 1 });
      await waitFor(
        async () => (await t.edgeState(keyspace, 'N-1'))?.openAlarms['before-renewal'] !== undefined,
        {
          message: 'an alarm over the old certificate',
        },
      );
      return serveGateway(gateway, { port });
    })();
    try {
      await waitFor(() => existsSync(join(dataDir, 'tls', 'edge.crt')), {
        message: 'the renewed certificate saved',
      });
      const renewed = new X509Certificate(readFileSync(join(dataDir, 'tls', 'edge.crt')));
      assert.notEqual(renewed.serialNumber, new X509Certificate(old.certificatePem).serialNumber);
      assert.ok(
        Date.parse(renewed.validTo) > Date.now() + 80 * DAY,
        `a fresh 90-day certificate: ${renewed.validTo}`,
      );
      assert.ok(renewed.checkIssued(new X509Certificate(pki.ca.certificatePem)), 'signed by the fleet CA');
      assert.equal(
        statSync(join(dataDir, 'tls', 'edge.key')).mode & 0o777,
        0o600,
        'the key is the edge’s alone',
      );
      const listed = await fetch(`${served.url}/v1/edges/N-1/certificates`, {
        headers: { authorization: `Bearer ${key}` },
      });
      const { certificates } = (await listed.json()) as { certificates: { serial: string }[] };
      assert.deepEqual(
        certificates.map((c) => c.serial),
        [renewed.serialNumber.toLowerCase()],
        'the registry recorded the renewal',
      );
      // The broker, restarted with the old certificate on its CRL, refuses it: only the new one gets in.
      await pki.writeCrl([{ serial: old.serial, revokedAt: new Date(), reason: 'superseded' }]);
      await broker.restart();
      agent.alarm({ alarm: 'after-renewal', phase: 'start', floor: 1 });
      await waitFor(
        async () => (await t.edgeState(keyspace, 'N-1'))?.openAlarms['after-renewal'] !== undefined,
        {
          message: 'an alarm over the renewed certificate',
        },
      );
    } finally {
      await agent.stop();
    }
    // Restarted with the old files, the agent presents the newer certificate it saved (no second renewal).
    await using again = await new EdgeAgent(options).start();
    again.alarm({ alarm: 'after-restart', phase: 'start', floor: 2 });
    await waitFor(
      async () => (await t.edgeState(keyspace, 'N-1'))?.openAlarms['after-restart'] !== undefined,
      {
        message: 'an alarm after the restart',
      },
    );
    const after = await fetch(`${served.url}/v1/edges/N-1/certificates`, {
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(((await after.json()) as { certificates: unknown[] }).certificates.length, 1);
  });
});
