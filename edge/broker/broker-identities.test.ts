/**
 * The broker's identities against a real mosquitto with the dynamic-security plugin: what an
 * edge's credentials may subscribe to (its own downlink only: refused at SUBSCRIBE otherwise),
 * that a refused `$share` attempt steals nothing, and the admin client creating, rotating and
 * removing edges — the connected session cut off within seconds each time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { type MosquittoServer, startMosquitto, waitFor } from '../../infra/mod.ts';
import { downlinkTopic, uplinkFilters, uplinkTopic } from '../protocol/mod.ts';
import { BrokerIdentities } from './broker-identities.ts';
import { BrokerAdminError, DynsecClient } from './dynsec-client.ts';
import { ADMIN_USER, CONTROL_TOPIC, isEdgeUser, LINK_USER } from './identities.ts';

const users: Record<string, string> = { [LINK_USER]: 'link-secret', 'E-1': 'e1-secret', 'E-2': 'e2-secret' };
let broker: MosquittoServer;
let dynsec: DynsecClient;
let identities: BrokerIdentities;
const clients: MqttClient[] = [];

before(async () => {
  broker = await startMosquitto({ users });
  dynsec = new DynsecClient({ url: broker.url, ...broker.admin });
  identities = new BrokerIdentities(dynsec);
});
after(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await dynsec?.close();
  await broker?.stop();
});

async function connect(username: string, password: string, clientId?: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(broker.url, {
    username,
    password,
    protocolVersion: 5,
    reconnectPeriod: 0,
    ...(clientId === undefined ? {} : { clientId }),
  });
  client.on('error', () => {});
  clients.push(client);
  return client;
}

/** The reason codes of a SUBACK (mqtt.js rejects when one is a refusal). */
async function subscribeCodes(client: MqttClient, filter: string): Promise<number[]> {
  return await client.subscribeAsync(filter, { qos: 1 }).then(
    (granted) => granted.map((g) => g.qos),
    (error: { packet?: { granted?: number[] } }) => {
      if (error.packet?.granted === undefined) throw error;
      return error.packet.granted;
    },
  );
}

const refused = (username: string, password: string) =>
  connect(username, password).then(
    () => assert.fail(`${username} connected with ${password}`),
    (error: Error) => assert.match(error.message, /Not authorized|Bad user name or password/),
  );

describe('an edge’s credentials', () => {
  it('may subscribe to its own downlink only: $share, wildcards and other edges’ topics are refused at SUBSCRIBE', async () => {
    const edge = await connect('E-1', users['E-1']!);
    for (const filter of [
      '$share/hub/dh/v1/+/legacy',
      '$share/hub/dh/v1/+/up/#',
      'dh/v1/+/down',
      '#',
      'dh/v1/E-2/down',
      '$share/x/dh/v1/E-1/down',
      '$CONTROL/dynamic-security/v1/response',
    ]) {
      assert.deepEqual(await subscribeCodes(edge, filter), [0x87], `${filter} is refused (Not authorized)`);
    }
    assert.deepEqual(await subscribeCodes(edge, downlinkTopic('E-1')), [1]);
  });

  it('takes no share of the fleet’s uplink after a refused $share subscription', async () => {
    const group = 'steal-test';
    const link = await connect(LINK_USER, users[LINK_USER]!, 'link-steal-test');
    const received: string[] = [];
    link.on('message', (_topic, payload) => received.push(payload.toString()));
    assert.deepEqual(
      (await link.subscribeAsync(uplinkFilters(group), { qos: 1 })).map((g) => g.qos),
      [1, 1],
    );
    const thief = await connect('E-1', users['E-1']!, 'thief');
    let stolen = 0;
    thief.on('message', () => stolen++);
    for (const filter of uplinkFilters(group)) assert.deepEqual(await subscribeCodes(thief, filter), [0x87]);
    const sender = await connect('E-2', users['E-2']!);
    for (let i = 0; i < 100; i++) {
      await sender.publishAsync(uplinkTopic('E-2', 'alarm'), `m-${i}`, { qos: 1 });
    }
    await waitFor(() => received.length >= 100, { message: '100 messages at the link' });
    assert.deepEqual(received.sort(), Array.from({ length: 100 }, (_, i) => `m-${i}`).sort());
    assert.equal(stolen, 0);
  });

  it('cannot publish on another edge’s topics or administer the broker', async () => {
    const link = await connect(LINK_USER, users[LINK_USER]!);
    const seen: string[] = [];
    link.on('message', (topic) => seen.push(topic));
    await link.subscribeAsync(['dh/v1/E-2/up/#', 'dh/v1/E-1/up/#'], { qos: 1 });
    const edge = await connect('E-1', users['E-1']!);
    // MQTT 5: mosquitto answers a refused QoS 1 publish with PUBACK 0x87 (mqtt.js rejects).
    await assert.rejects(edge.publishAsync(uplinkTopic('E-2', 'alarm'), 'forged', { qos: 1 }));
    await assert.rejects(
      edge.publishAsync(CONTROL_TOPIC, JSON.stringify({ commands: [{ command: 'listClients' }] }), {
        qos: 1,
      }),
    );
    await edge.publishAsync(uplinkTopic('E-1', 'alarm'), 'own', { qos: 1 });
    await waitFor(() => seen.includes(uplinkTopic('E-1', 'alarm')), { message: 'the edge’s own message' });
    assert.ok(!seen.includes(uplinkTopic('E-2', 'alarm')), 'the forged message was not delivered');
  });

  it('can never be a link user’s or the admin’s: those names are no edge id', async () => {
    assert.equal(isEdgeUser(LINK_USER), false);
    assert.equal(isEdgeUser(ADMIN_USER), false);
    await assert.rejects(identities.ensureEdge(LINK_USER, 'x'), RangeError);
    // An edge's password is no link user's, and a registered edge holds only its own role.
    await refused(LINK_USER, users['E-1']!);
    await identities.ensureEdge('link', 'link-edge-secret');
    const edge = await connect('link', 'link-edge-secret');
    assert.deepEqual(await subscribeCodes(edge, uplinkFilters('hub')[0]!), [0x87]);
    await identities.removeEdge('link');
  });
});

describe('the admin client', () => {
  it('registers an edge so it can connect at once, idempotently', async () => {
    await refused('N-1', 'n1-secret');
    await identities.ensureEdge('N-1', 'n1-secret');
    await identities.ensureEdge('N-1', 'n1-secret');
    const edge = await connect('N-1', 'n1-secret');
    assert.deepEqual(await subscribeCodes(edge, downlinkTopic('N-1')), [1]);
    assert.deepEqual(await subscribeCodes(edge, downlinkTopic('E-1')), [0x87]);
    assert.ok((await identities.listEdges()).includes('N-1'));
  });

  it('rotates a password: the old one fails and a connected session is kicked within seconds', async () => {
    await identities.ensureEdge('R-1', 'old-secret');
    const session = await connect('R-1', 'old-secret');
    const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    await identities.setPassword('R-1', 'new-secret');
    await closed;
    await refused('R-1', 'old-secret');
    await connect('R-1', 'new-secret');
  });

  it('removes an edge: the session is cut off within seconds and reconnects are refused', async () => {
    await identities.ensureEdge('D-1', 'd1-secret');
    const session = await connect('D-1', 'd1-secret');
    const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    await identities.removeEdge('D-1');
    await closed;
    await refused('D-1', 'd1-secret');
    await identities.removeEdge('D-1'); // idempotent
    assert.ok(!(await identities.listEdges()).includes('D-1'));
  });

  it('creates and removes edges in bulk, many commands per control message', async () => {
    const edges = Array.from({ length: 120 }, (_, i) => ({ id: `B-${i}`, password: `b-${i}-secret` }));
    await identities.ensureEdges(edges);
    const listed = new Set(await identities.listEdges(50));
    for (const e of edges) assert.ok(listed.has(e.id), e.id);
    assert.ok(!listed.has(LINK_USER) && !listed.has(ADMIN_USER), 'the hub’s own users are no edges');
    await connect('B-119', 'b-119-secret');
    await identities.removeEdges(edges.map((e) => e.id));
    const after = new Set(await identities.listEdges());
    for (const e of edges) assert.ok(!after.has(e.id), e.id);
  });

  it('says the broker is unreachable (retryable) instead of waiting', async () => {
    const nowhere = new DynsecClient({
      url: 'mqtt://127.0.0.1:1',
      username: ADMIN_USER,
      password: 'x',
      connectWaitMs: 200,
    });
    try {
      await assert.rejects(
        new BrokerIdentities(nowhere).ensureEdge('U-1', 'x'),
        (error: unknown) =>
          error instanceof BrokerAdminError && error.code === 'UNREACHABLE' && error.retryable,
      );
    } finally {
      await nowhere.close();
    }
    // Wrong admin credentials: the same, saying why.
    const refusedAdmin = new DynsecClient({
      url: broker.url,
      username: ADMIN_USER,
      password: 'wrong',
      connectWaitMs: 500,
    });
    try {
      await assert.rejects(
        new BrokerIdentities(refusedAdmin).ensureEdge('U-1', 'x'),
        (error: unknown) =>
          error instanceof BrokerAdminError &&
          error.code === 'UNREACHABLE' &&
          /Not authorized/i.test(error.message),
      );
    } finally {
      await refusedAdmin.close();
    }
  });
});
