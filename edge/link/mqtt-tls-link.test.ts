/**
 * The MQTT link over mutual TLS (issue 14, item 2): the link, the downlink relay and `devicehub
 * link mqtt` log in with the link's own certificate (CN = the link user, no password) on the
 * hub's listener, every edge with its own on the edges' one, all checking the broker's
 * certificate against the fleet CA; the whole link contract holds over it. Plus the link over the
 * password-over-TLS listener.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { type MosquittoServer, startMosquitto, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { type CertificateFiles, startTestPki, type TestPki } from '../../infra/tls.ts';
import { LINK_USER } from '../broker/mod.ts';
import type { DownlinkCommand } from '../protocol/mod.ts';
import { downlinkTopic, encodeCompact, legacyUplinkTopic, uplinkTopic } from '../protocol/mod.ts';
import { mqttDownlink } from './downlink-relay.ts';
import { MqttLink, mqttLogin } from './mqtt-link.ts';
import { type LinkHarness, linkContract } from './testdata/link-contract.ts';

const t = useRedis();
let broker: MosquittoServer;
let pki: TestPki;
let linkCert: CertificateFiles;
const edgeCerts = new Map<string, CertificateFiles>();
const EDGE_IDS = ['T-1', 'T-2', 'T-3', 'T-4', 'T-5', 'T-6', 'T-7', 'T-8'];
/** The broker knows passwords too (the password-over-TLS listener); the mTLS listener ignores them. */
const users: Record<string, string> = {
  [LINK_USER]: 'hub-secret',
  ...Object.fromEntries(EDGE_IDS.map((id) => [id, `${id.toLowerCase()}-secret`])),
};

before(async () => {
  pki = await startTestPki();
  const crlFile = await pki.writeCrl([]);
  broker = await startMosquitto({
    users,
    tls: { caFile: pki.caFile, certFile: pki.server.certFile, keyFile: pki.server.keyFile, crlFile },
  });
  linkCert = await pki.issueService(LINK_USER);
  for (const id of EDGE_IDS) edgeCerts.set(id, await pki.issueEdge(id));
});
after(async () => {
  await broker?.stop();
});

/** The hub's login on the hub's mTLS listener: its certificate, no password. */
const hub = () => ({
  url: broker.tls!.hubUrl,
  username: LINK_USER,
  tls: { ca: pki.ca.certificatePem, cert: linkCert.certificatePem, key: linkCert.privateKeyPem },
});

const harness: LinkHarness = {
  transport: 'mqtt',
  edgeIds: EDGE_IDS,
  link: (o) =>
    new MqttLink({
      ...o,
      ...hub(),
      clientId: `tls-link-${o.bus.keyspace.prefix}`,
      group: o.bus.keyspace.prefix,
    }).start(),
  linkProcess: (keyspace) => ({
    args: [
      ...['link', 'mqtt', ...t.cliArgs(keyspace), '--url', broker.tls!.hubUrl],
      ...['--mqtt-ca', pki.caFile, '--mqtt-cert', linkCert.certFile, '--mqtt-key', linkCert.keyFile],
      ...['--client-id', `tls-crash-${keyspace.prefix}`, '--group', keyspace.prefix],
    ],
    env: { DH_LOG_LEVEL: 'warn' },
  }),
  sender: () => mqttDownlink(hub()),
  async edge(id) {
    const cert = edgeCerts.get(id)!;
    const client = await mqtt.connectAsync(broker.tls!.mtlsUrl, {
      ca: pki.ca.certificatePem,
      cert: cert.certificatePem,
      key: cert.privateKeyPem,
      protocolVersion: 5,
      clientId: id,
      reconnectPeriod: 2000,
    });
    const commands: DownlinkCommand[] = [];
    client.on('message', (_topic, payload) =>
      commands.push(JSON.parse(payload.toString()) as DownlinkCommand),
    );
    await client.subscribeAsync(downlinkTopic(id), { qos: 1 });
    const publish = async (topic: string, payload: Uint8Array | string) => {
      await client.publishAsync(topic, typeof payload === 'string' ? payload : Buffer.from(payload), {
        qos: 1,
      });
    };
    return {
      id,
      commands,
      compact: (m) => publish(uplinkTopic(id, m.kind), encodeCompact(m)),
      legacy: (m) => publish(legacyUplinkTopic(id), m.json),
      raw: (format, kind, bytes) =>
        publish(format === 'compact' ? uplinkTopic(id, kind) : legacyUplinkTopic(id), bytes),
      [Symbol.asyncDispose]: () => client.endAsync(),
    };
  },
  restartBroker: () => broker.restart(),
};

describe('the MQTT link over mTLS', () => {
  linkContract(t, () => harness);
});

describe('the MQTT link’s logins', () => {
  it('takes the link user’s password over the password-over-TLS listener', async () => {
    const keyspace = t.keyspace();
    await using link = await new MqttLink({
      bus: t.bus(keyspace, t.connect()),
      url: broker.tls!.tlsUrl,
      username: LINK_USER,
      password: users[LINK_USER]!,
      tls: { ca: pki.ca.certificatePem },
      clientId: `pw-link-${keyspace.prefix}`,
      group: keyspace.prefix,
    }).start();
    await using edge = await harness.edge('T-1');
    await edge.compact({ kind: 'alarm', seq: 1, ts: 1, alarm: 'smoke', phase: 'start', floor: 2 });
    await waitFor(() => link.stats.enqueued === 1, { message: 'the edge’s message enqueued by the link' });
  });

  it('refuses a client certificate towards a plaintext broker, and a login with neither password nor certificate', () => {
    const { tls } = hub();
    assert.throws(() => mqttLogin(broker.url, { username: LINK_USER, tls }), /needs an mqtts/);
    assert.throws(() => mqttLogin(broker.tls!.mtlsUrl, { username: LINK_USER }), /password or a client/);
    const options = mqttLogin(broker.tls!.mtlsUrl, { username: LINK_USER, password: 'unsent', tls });
    assert.equal(options.password, undefined, 'no password goes out with a certificate');
    assert.equal(options.rejectUnauthorized, true);
  });
});
