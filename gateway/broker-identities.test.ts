/**
 * Broker identities follow the registry, end to end: a real gateway (PGlite, Redis) managing a
 * real mosquitto's dynamic-security plugin. Registering an edge lets it connect at once; rotating
 * its secret makes the old one fail and kicks a connected session; deregistering cuts it off and
 * refuses reconnects; a broker that cannot be told is a 503 that changed nothing; the reconciler
 * removes identities the registry does not hold and creates the link user on a bare broker.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { BrokerIdentities, DynsecClient, LINK_USER } from '../edge/broker/mod.ts';
import { downlinkTopic } from '../edge/mod.ts';
import { type MosquittoServer, startMosquitto, waitFor } from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { createApiKey } from './auth.ts';
import { openDatabase } from './db/database.ts';
import { createGateway } from './gateway.ts';

const t = useRedis();
let broker: MosquittoServer;
const clients: MqttClient[] = [];

before(async () => {
  broker = await startMosquitto({ users: {} });
});
after(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await broker?.stop();
});

async function connect(username: string, password: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(broker.url, {
    username,
    password,
    protocolVersion: 5,
    reconnectPeriod: 0,
  });
  client.on('error', () => {});
  clients.push(client);
  return client;
}

const refused = (username: string, password: string) =>
  assert.rejects(connect(username, password), /Not authorized|Bad user name or password/i);

async function setup(brokerUrl = broker.url) {
  const database = await openDatabase();
  const gateway = await createGateway({
    database,
    bus: t.bus(t.keyspace(), t.connect()),
    // No periodic pass: the test runs the reconciler itself.
    broker: { url: brokerUrl, ...broker.admin, reconcileMs: 0, links: { [LINK_USER]: 'link-secret' } },
  });
  const { key } = await createApiKey(database.db, { name: 'ops', scope: 'admin' });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await gateway.app.request(path, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: res.status,
      body: res.status === 204 ? undefined : ((await res.json()) as Record<string, unknown>),
    };
  };
  return {
    database,
    gateway,
    api,
    async [Symbol.asyncDispose]() {
      await gateway.stop();
      await database.close();
    },
  };
}

describe('broker identities follow the registry', { timeout: 60_000 }, () => {
  it('lets a registered edge connect at once, rotation cuts the old secret off, deregistration the edge', async () => {
    await using g = await setup();
    const registered = await g.api('POST', '/v1/edges', { id: 'GW-1' });
    assert.equal(registered.status, 201);
    const secret = registered.body!.secret as string;
    const session = await connect('GW-1', secret);
    assert.deepEqual(
      (await session.subscribeAsync(downlinkTopic('GW-1'), { qos: 1 })).map((s) => s.qos),
      [1],
    );

    const kicked = new Promise<void>((resolve) => session.once('close', () => resolve()));
    const rotated = await g.api('POST', '/v1/edges/GW-1/secret');
    assert.equal(rotated.status, 200);
    const fresh = rotated.body!.secret as string;
    assert.notEqual(fresh, secret);
    await kicked;
    await refused('GW-1', secret);
    const second = await connect('GW-1', fresh);
    // The registry follows too: the edge's HTTP credentials are the new secret.
    const config = await g.gateway.app.request('/v1/config', {
      headers: { authorization: `Basic ${Buffer.from(`GW-1:${fresh}`).toString('base64')}` },
    });
    assert.notEqual(config.status, 401);

    const cut = new Promise<void>((resolve) => second.once('close', () => resolve()));
    assert.equal((await g.api('DELETE', '/v1/edges/GW-1')).status, 204);
    await cut;
    await refused('GW-1', fresh);
    assert.equal((await g.api('DELETE', '/v1/edges/GW-1')).status, 404);
    assert.equal((await g.api('POST', '/v1/edges/GW-1/secret')).status, 404);
  });

  it('answers 503 and keeps nothing when the broker cannot be told', async () => {
    await using g = await setup('mqtt://127.0.0.1:1');
    const res = await g.api('POST', '/v1/edges', { id: 'GW-2' });
    assert.equal(res.status, 503);
    assert.match(JSON.stringify(res.body), /MQTT broker did not confirm/);
    assert.equal((await g.api('GET', '/v1/edges/GW-2')).status, 404, 'the registration was rolled back');
  });

  it('reconciles: removes identities the registry does not hold, creates the link user, reports the missing', async () => {
    await using g = await setup();
    await using dynsec = new DynsecClient({ url: broker.url, ...broker.admin });
    const identities = new BrokerIdentities(dynsec);
    await identities.ensureEdge('STRAY-1', 'stray-secret');
    const stray = await connect('STRAY-1', 'stray-secret');
    const strayCut = new Promise<void>((resolve) => stray.once('close', () => resolve()));
    const kept = await g.api('POST', '/v1/edges', { id: 'GW-3' });
    assert.equal(kept.status, 201);
    await identities.removeEdge('GW-3'); // lost by the broker
    const result = await g.gateway.reconciler!.reconcile();
    assert.deepEqual(result.removed, ['STRAY-1']);
    assert.deepEqual(result.missing, ['GW-3']);
    await strayCut;
    await refused('STRAY-1', 'stray-secret');
    await connect(LINK_USER, 'link-secret');
    // Rotating the secret of an edge the broker lost brings it back.
    const rotated = await g.api('POST', '/v1/edges/GW-3/secret');
    assert.equal(rotated.status, 200);
    await connect('GW-3', rotated.body!.secret as string);
    assert.deepEqual((await g.gateway.reconciler!.reconcile()).missing, []);
  });

  it('runs the periodic pass on one gateway of the cluster at a time', async () => {
    await using database = await openDatabase();
    const keyspace = t.keyspace();
    const start = (name: string) =>
      createGateway({
        database,
        name,
        bus: t.bus(keyspace, t.connect()),
        broker: { url: broker.url, ...broker.admin, reconcileMs: 40, links: { [LINK_USER]: 'link-secret' } },
      });
    const [a, b] = await Promise.all([start('gw-a'), start('gw-b')]);
    try {
      await using dynsec = new DynsecClient({ url: broker.url, ...broker.admin });
      const identities = new BrokerIdentities(dynsec);
      await identities.ensureEdge('STRAY-2', 'stray-secret');
      await waitFor(async () => !(await identities.listEdges()).includes('STRAY-2'), {
        message: 'the periodic pass removed the stray identity',
      });
      await waitFor(() => a.reconciler!.passes + b.reconciler!.passes >= 4, { message: 'four passes' });
      assert.equal(
        Math.min(a.reconciler!.passes, b.reconciler!.passes),
        0,
        `one gateway runs the passes (gw-a ${a.reconciler!.passes}, gw-b ${b.reconciler!.passes})`,
      );
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
