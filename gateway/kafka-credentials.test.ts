/**
 * Edges' Kafka credentials follow the registry, end to end: a real gateway (PGlite, Redis) given
 * the admin of a real authenticated Kafka (one KRaft broker, SASL_SSL with SCRAM-SHA-512 and
 * ACLs). Registering an edge lets it produce to the uplink topics as its id with its secret;
 * `POST /v1/edges/{id}/secret` makes the old password fail and the new one work; a rotation with a
 * grace period moves the Kafka password when the edge confirms; deregistering refuses its next
 * login; a Kafka that cannot be told is a 503 that leaves no edge behind; a pool broker
 * `kafkas://…` reaches the edge's configuration as SASL_SSL.
 */
// Redis Cluster pass: once (what this tests is Kafka's SCRAM users and ACLs; its Redis use is incidental).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { produce, useAuthenticatedKafka } from '../edge/link/testdata/kafka-auth-broker.ts';
import { KAFKA_TOPICS, KAFKA_UPLINK_TOPICS } from '../edge/protocol/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { createApiKey } from './auth.ts';
import { openDatabase } from './db/database.ts';
import { createGateway } from './gateway.ts';
import { basic } from './testdata/harness.ts';

const t = useRedis();
const k = useAuthenticatedKafka();
let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'devicehub-kafka-credentials-'));
});
after(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

/** A gateway managing the test Kafka's edge credentials (`brokers` overrides where it looks). */
async function setup(options: { brokers?: string[]; identity?: boolean } = {}) {
  const database = await openDatabase();
  const gateway = await createGateway({
    database,
    bus: t.bus(t.keyspace(), t.connect()),
    kafka: { brokers: options.brokers ?? [k.kafka.broker], ...k.auth.hub, caFile: k.auth.caFile },
    ...(options.identity
      ? { identity: { dir: await mkdtemp(join(work, 'ca-')), create: true, expireMs: 3_600_000 } }
      : {}),
  });
  const { key } = await createApiKey(database.db, { name: 'ops', scope: 'admin' });
  const api = async (method: string, path: string, body?: unknown, authorization = `Bearer ${key}`) => {
    const res = await gateway.app.request(path, {
      method,
      headers: { authorization, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, text, json: text === '' ? undefined : JSON.parse(text) };
  };
  return {
    gateway,
    api,
    async [Symbol.asyncDispose]() {
      await gateway.stop();
      await database.close();
    },
  };
}

/** One record as `id` with `password` to `topic`: 'ok', or the refusal's error type. */
const produceAs = (id: string, password: string, topic: string = KAFKA_TOPICS.compact) =>
  produce(k.client({ username: id, password }), topic, id);

describe('edges’ Kafka credentials follow the registry', { timeout: 120_000 }, () => {
  it('registers an edge onto Kafka before 201, rotates its password at once, removes it at deregistration', async () => {
    await using g = await setup();
    const registered = await g.api('POST', '/v1/edges', { id: 'KC-1' });
    assert.equal(registered.status, 201, registered.text);
    const secret: string = registered.json.secret;
    assert.equal(await k.identities.hasEdge('KC-1'), true);
    for (const topic of KAFKA_UPLINK_TOPICS) {
      assert.equal(await produceAs('KC-1', secret, topic), 'ok', `KC-1 produces to ${topic}`);
    }
    assert.notEqual(await produceAs('KC-1', 'not-its-secret'), 'ok', 'a wrong password is refused');

    const rotated = await g.api('POST', '/v1/edges/KC-1/secret');
    assert.equal(rotated.status, 200, rotated.text);
    const fresh: string = rotated.json.secret;
    assert.notEqual(fresh, secret);
    assert.notEqual(await produceAs('KC-1', secret), 'ok', 'the old password stopped on Kafka');
    assert.equal(await produceAs('KC-1', fresh), 'ok', 'the new password works on Kafka');

    assert.equal((await g.api('DELETE', '/v1/edges/KC-1')).status, 204);
    assert.equal(await k.identities.hasEdge('KC-1'), false);
    assert.notEqual(await produceAs('KC-1', fresh), 'ok', 'a deregistered edge’s next login is refused');
    assert.equal((await g.api('DELETE', '/v1/edges/KC-1')).status, 404);
  });

  it('moves the Kafka password when the edge confirms a rotation with a grace period, and when the grace ends', async () => {
    await using g = await setup({ identity: true });
    const old: string = (await g.api('POST', '/v1/edges', { id: 'KC-2' })).json.secret;
    const rotated = await g.api('POST', '/v1/edges/KC-2/credentials/rotate', { graceSeconds: 3600 });
    assert.equal(rotated.status, 202, rotated.text);
    const config = await g.api('GET', '/v1/config/edge/KC-2', undefined, basic('KC-2', old));
    const fresh: string = config.json.credentials.secret;
    assert.notEqual(fresh, old);
    assert.equal(await produceAs('KC-2', old), 'ok', 'Kafka keeps the old password until the edge confirms');
    // The edge's first request with its new secret confirms it: Kafka takes the new password.
    const confirmed = await g.api('GET', '/v1/config/edge/KC-2', undefined, basic('KC-2', fresh));
    assert.equal(confirmed.status, 200, confirmed.text);
    assert.equal(await produceAs('KC-2', fresh), 'ok');
    assert.notEqual(await produceAs('KC-2', old), 'ok', 'the old password stopped on Kafka');

    // An edge that never comes: the grace period's end moves Kafka to the new secret anyway.
    const before = (await g.api('POST', '/v1/edges', { id: 'KC-3' })).json.secret as string;
    await g.api('POST', '/v1/edges/KC-3/credentials/rotate', { graceSeconds: 60 });
    const next: string = (await g.api('GET', '/v1/config/edge/KC-3', undefined, basic('KC-3', before))).json
      .credentials.secret;
    const rotations = g.gateway.credentials?.rotations;
    assert.ok(rotations, 'the gateway has credentials');
    assert.deepEqual(await rotations.expire(new Date(Date.now() + 61_000)), ['KC-3']);
    assert.notEqual(await produceAs('KC-3', before), 'ok');
    assert.equal(await produceAs('KC-3', next), 'ok');
  });

  it('answers 503 and keeps no edge when Kafka cannot be told', async () => {
    await using g = await setup({ brokers: ['127.0.0.1:1'] });
    const res = await g.api('POST', '/v1/edges', { id: 'KC-4' });
    assert.equal(res.status, 503, res.text);
    assert.match(res.text, /Kafka did not confirm/);
    assert.doesNotMatch(res.text, new RegExp(k.auth.hub.password), 'the admin password is not in the answer');
    assert.equal((await g.api('GET', '/v1/edges/KC-4')).status, 404, 'the registration was rolled back');
    assert.equal(await k.identities.hasEdge('KC-4'), false);
  });

  it('refuses an id Kafka may not hold as an edge’s user, keeping nothing', async () => {
    await using g = await setup();
    const res = await g.api('POST', '/v1/edges', { id: 'devicehub-controller' });
    assert.equal(res.status, 400, res.text);
    assert.equal((await g.api('GET', '/v1/edges/devicehub-controller')).status, 404);
  });

  it('sends an edge of a kafkas:// pool broker to SASL_SSL in its configuration', async () => {
    await using g = await setup();
    const secret: string = (await g.api('POST', '/v1/edges', { id: 'KC-5' })).json.secret;
    const put = await g.api('PUT', '/v1/brokers/k1', {
      transport: 'kafka',
      address: `kafkas://${k.kafka.broker}`,
      weight: 1,
    });
    assert.equal(put.status, 200, put.text);
    const config = await g.api('GET', '/v1/config/edge/KC-5', undefined, basic('KC-5', secret));
    assert.equal(config.status, 200, config.text);
    assert.deepEqual(config.json.broker, {
      transport: 'kafka',
      brokers: [k.kafka.broker],
      security: 'sasl_ssl',
    });
    // An operator's own document may name it too (the schema keeps `security`).
    const doc = await g.api('PUT', '/v1/config/edge/module:KC-5', {
      broker: { transport: 'kafka', brokers: [k.kafka.broker], security: 'sasl_ssl' },
    });
    assert.ok(doc.status < 300, doc.text);
    assert.equal((await g.api('DELETE', '/v1/brokers/k1')).status, 204);
    const own = await g.api('GET', '/v1/config/edge/KC-5', undefined, basic('KC-5', secret));
    assert.equal(own.json.broker.security, 'sasl_ssl');
  });
});
