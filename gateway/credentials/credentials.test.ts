/**
 * Edge credentials end to end: a real gateway (PGlite, Redis) with a fleet CA in files, managing a
 * real mosquitto's dynamic-security plugin. Certificates at registration (from an openssl CSR, or
 * with a key made by the CA) and renewal by the edge itself; deregistration puts them on the CRL
 * (the file the broker reads, and /v1/pki/crl.pem), which openssl then refuses; a rotation reaches
 * the edge through its configuration and the broker follows the edge's confirmation or the end of
 * the grace period.
 */
// Redis Cluster pass: once (what this tests is certificates in the database and the CRL; its Redis use is incidental).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import mqtt from 'mqtt';
import { LINK_USER } from '../../edge/broker/mod.ts';
import { openssl as run } from '../../edge/identity/testdata/openssl.ts';
import { type MosquittoServer, startMosquitto, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { createApiKey } from '../auth.ts';
import { openDatabase } from '../db/database.ts';
import { edges } from '../db/schema.ts';
import { createGateway, type Gateway } from '../gateway.ts';
import { basic } from '../testdata/harness.ts';
import { EXPIRY_LEASE } from './start.ts';

const t = useRedis();
let broker: MosquittoServer;
let work: string;
const gateways: Gateway[] = [];

before(async () => {
  broker = await startMosquitto({ users: {} });
  work = await mkdtemp(join(tmpdir(), 'devicehub-credentials-'));
});
// Each test's gateway stops at its end, before the harness closes that test's Redis connections.
afterEach(async () => {
  for (const g of gateways.splice(0)) await g.stop();
});
after(async () => {
  await broker?.stop();
});

const openssl = (args: string[]) => run(args, work);

/** A CSR made by openssl for `cn`; the key stays in the work folder. */
async function csrFor(cn: string): Promise<string> {
  const made = await openssl([
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    `/CN=${cn}`,
    '-keyout',
    `${cn}.key`,
    '-out',
    `${cn}.csr`,
  ]);
  assert.equal(made.code, 0, made.out);
  return readFile(join(work, `${cn}.csr`), 'utf8');
}

async function setup(expireMs = 3_600_000) {
  const database = await openDatabase();
  const dir = await mkdtemp(join(work, 'ca-'));
  const bus = t.bus(t.keyspace(), t.connect());
  const gateway = await createGateway({
    database,
    bus,
    broker: { url: broker.url, ...broker.admin, reconcileMs: 0, links: { [LINK_USER]: 'link-secret' } },
    identity: { dir, create: true, crlFile: join(dir, 'crl.pem'), expireMs },
  });
  gateways.push(gateway);
  const { key } = await createApiKey(database.db, { name: 'ops', scope: 'admin' });
  const call = async (method: string, path: string, o: { body?: unknown; auth?: string } = {}) => {
    const res = await gateway.app.request(path, {
      method,
      headers: {
        authorization: o.auth ?? `Bearer ${key}`,
        ...(o.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
    });
    const text = await res.text();
    return { status: res.status, text, json: text.startsWith('{') ? JSON.parse(text) : undefined };
  };
  return { gateway, database, bus, call, dir, caFile: join(dir, 'ca.crt'), crlFile: join(dir, 'crl.pem') };
}

const mqttLogin = async (username: string, password: string) => {
  const client = await mqtt.connectAsync(broker.url, {
    username,
    password,
    reconnectPeriod: 0,
    protocolVersion: 5,
  });
  await client.endAsync(true);
};

describe('edge certificates', () => {
  it('registers an edge with its CSR, and a CSR that is malformed or names another edge registers nothing, counted', async () => {
    const { call, caFile, gateway } = await setup();
    const created = await call('POST', '/v1/edges', { body: { id: 'cert-1', csr: await csrFor('cert-1') } });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.certificate.privateKeyPem, undefined, 'the key stayed on the edge');
    await writeFile(join(work, 'cert-1.crt'), created.json.certificate.certificatePem);
    const verified = await openssl(['verify', '-CAfile', caFile, '-purpose', 'sslclient', 'cert-1.crt']);
    assert.equal(verified.code, 0, verified.out);

    const foreign = await call('POST', '/v1/edges', { body: { id: 'cert-2', csr: await csrFor('cert-3') } });
    assert.equal(foreign.status, 400, foreign.text);
    assert.equal(foreign.json.error.details.identity, 'CSR_SUBJECT_MISMATCH');
    const garbage = await call('POST', '/v1/edges', {
      body: { id: 'cert-2', csr: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA' },
    });
    assert.equal(garbage.status, 400, garbage.text);
    assert.equal((await call('GET', '/v1/edges/cert-2')).status, 404, 'a refused CSR leaves no edge behind');
    await assert.rejects(mqttLogin('cert-2', 'anything'));
    const metrics = await (await gateway.app.request('/metrics')).text();
    assert.match(
      metrics,
      /devicehub_edge_certificates_total\{outcome="refused",reason="CSR_SUBJECT_MISMATCH"\} 1/,
    );
    assert.match(metrics, /devicehub_edge_certificates_total\{outcome="refused",reason="CSR_MALFORMED"\} 1/);
    assert.match(metrics, /devicehub_edge_certificates_total\{outcome="issued",reason=""\} 1/);

    const made = await call('POST', '/v1/edges', { body: { id: 'cert-4', certificate: true } });
    assert.equal(made.status, 201, made.text);
    assert.match(made.json.certificate.privateKeyPem, /BEGIN PRIVATE KEY/);
  });

  it('lets an edge renew its own certificate with a CSR, and no other', async () => {
    const { call } = await setup();
    const a = (await call('POST', '/v1/edges', { body: { id: 'renew-a' } })).json;
    const b = (await call('POST', '/v1/edges', { body: { id: 'renew-b' } })).json;
    const own = await call('POST', '/v1/pki/edges/renew-a/certificate', {
      auth: basic('renew-a', a.secret),
      body: { csr: await csrFor('renew-a') },
    });
    assert.equal(own.status, 201, own.text);
    assert.equal(own.json.edgeId, 'renew-a');
    const other = await call('POST', '/v1/pki/edges/renew-a/certificate', {
      auth: basic('renew-b', b.secret),
      body: { csr: await csrFor('renew-a') },
    });
    assert.equal(other.status, 403, other.text);
    const keyless = await call('POST', '/v1/pki/edges/renew-a/certificate', {
      auth: basic('renew-a', a.secret),
      body: {},
    });
    assert.equal(keyless.status, 400, 'an edge does not get a key made for it');
    const listed = await call('GET', '/v1/edges/renew-a/certificates');
    assert.equal(listed.json.certificates.length, 1);
  });

  it('revokes the certificates of a deregistered edge: the CRL file and /v1/pki/crl.pem list them and openssl refuses them', async () => {
    const { call, caFile, crlFile } = await setup();
    const created = await call('POST', '/v1/edges', { body: { id: 'gone-1', csr: await csrFor('gone-1') } });
    const kept = await call('POST', '/v1/edges', { body: { id: 'kept-1', csr: await csrFor('kept-1') } });
    await writeFile(join(work, 'gone-1.crt'), created.json.certificate.certificatePem);
    await writeFile(join(work, 'kept-1.crt'), kept.json.certificate.certificatePem);
    // Kept between requests (an ECDSA signature made anew would differ), not signed per request.
    const before = await call('GET', '/v1/pki/crl.pem', { auth: '' });
    assert.equal((await call('GET', '/v1/pki/crl.pem', { auth: '' })).text, before.text);
    assert.equal((await call('DELETE', '/v1/edges/gone-1')).status, 204);

    const crl = await call('GET', '/v1/pki/crl.pem', { auth: '' });
    assert.equal(crl.status, 200);
    assert.notEqual(crl.text, before.text, 'made anew after the revocation');
    await writeFile(join(work, 'served-crl.pem'), crl.text);
    // The CRL served and the file the broker reads both refuse the revoked certificate, and only it.
    for (const file of ['served-crl.pem', crlFile]) {
      const check = (cert: string) =>
        openssl(['verify', '-crl_check', '-CAfile', caFile, '-CRLfile', file, cert]);
      const refused = await check('gone-1.crt');
      assert.notEqual(refused.code, 0);
      assert.match(refused.out, /revoked/i);
      const accepted = await check('kept-1.crt');
      assert.equal(accepted.code, 0, accepted.out);
    }
    const listed = await call('GET', '/v1/edges/gone-1/certificates');
    assert.equal(listed.json.certificates[0].revokeReason, 'cessationOfOperation');
  });
});

describe('secret rotation', () => {
  it('reaches the edge through its configuration; its first use of the new secret moves the broker and stops the old one', async () => {
    const { call } = await setup();
    const { secret: old } = (await call('POST', '/v1/edges', { body: { id: 'rot-1' } })).json;
    const before = await call('GET', '/v1/config/edge/rot-1', { auth: basic('rot-1', old) });
    assert.equal(before.json.credentials, undefined);

    const rotated = await call('POST', '/v1/edges/rot-1/credentials/rotate', {
      body: { graceSeconds: 3600 },
    });
    assert.equal(rotated.status, 202, rotated.text);
    assert.equal(rotated.json.secret, undefined, 'the operator never sees the new secret');
    // The old secret still works during the grace period, and the configuration carries the new one.
    const config = await call('GET', '/v1/config/edge/rot-1', { auth: basic('rot-1', old) });
    assert.equal(config.status, 200, config.text);
    const fresh: string = config.json.credentials.secret;
    assert.match(fresh, /^dhe_/);
    assert.notEqual(fresh, old);
    await mqttLogin('rot-1', old); // the broker has not moved yet
    const asKey = await call('GET', '/v1/config/edge/rot-1');
    assert.equal(asKey.json.credentials.secret, undefined, 'only the edge itself is given its secret');

    // The edge uses the new secret: confirmed.
    assert.equal((await call('GET', '/v1/config/edge/rot-1', { auth: basic('rot-1', fresh) })).status, 200);
    await mqttLogin('rot-1', fresh);
    await assert.rejects(mqttLogin('rot-1', old));
    assert.equal((await call('GET', '/v1/config/edge/rot-1', { auth: basic('rot-1', old) })).status, 401);
    const after = await call('GET', '/v1/config/edge/rot-1', { auth: basic('rot-1', fresh) });
    assert.equal(after.json.credentials.secret, undefined, 'nothing waits any more');
  });

  it('stops the old secret at the end of the grace period even when the edge never came', async () => {
    const { call, gateway } = await setup();
    const { secret: old } = (await call('POST', '/v1/edges', { body: { id: 'rot-2' } })).json;
    await call('POST', '/v1/edges/rot-2/credentials/rotate', { body: { graceSeconds: 60 } });
    const fresh = (await call('GET', '/v1/config/edge/rot-2', { auth: basic('rot-2', old) })).json.credentials
      .secret;
    // No confirmation; the grace period ends (the pass, run here with a clock past it).
    assert.deepEqual(await expireNow(gateway, 61), ['rot-2']);
    assert.equal((await call('GET', '/v1/config/edge/rot-2', { auth: basic('rot-2', old) })).status, 401);
    await assert.rejects(mqttLogin('rot-2', old));
    await mqttLogin('rot-2', fresh);
  });

  it('ends grace periods by itself: the pass runs on the gateway holding its lease', async () => {
    const { call, database, bus } = await setup(100);
    const { secret: old } = (await call('POST', '/v1/edges', { body: { id: 'rot-3' } })).json;
    const rotated = await call('POST', '/v1/edges/rot-3/credentials/rotate', { body: { graceSeconds: 10 } });
    assert.equal(rotated.json?.credentialsVersion, 1, rotated.text);
    assert.equal((await call('GET', '/v1/config/edge/rot-3', { auth: basic('rot-3', old) })).status, 200);
    // The grace period is over (the clock moved on), for the pass's next tick to find and end.
    const row = async () => (await database.db.select().from(edges).where(eq(edges.id, 'rot-3')))[0];
    await database.db
      .update(edges)
      .set({ previousSecretUntil: new Date(Date.now() - 1000) })
      .where(eq(edges.id, 'rot-3'));
    await waitFor(async () => (await row())?.previousSecretHash === null, {
      timeoutMs: 10_000,
      message: 'the periodic pass to end the grace period',
    });
    assert.equal((await row())?.pendingSecret, null, 'the sealed secret went to the broker');
    assert.ok(await bus.redis.get(bus.keyspace.lease(EXPIRY_LEASE)), 'the pass ran under its lease');
    assert.equal((await call('GET', '/v1/config/edge/rot-3', { auth: basic('rot-3', old) })).status, 401);
  });
});

async function expireNow(gateway: Gateway, afterSeconds: number): Promise<string[]> {
  const rotations = gateway.credentials?.rotations;
  assert.ok(rotations, 'the gateway has credentials');
  return rotations.expire(new Date(Date.now() + afterSeconds * 1000));
}
