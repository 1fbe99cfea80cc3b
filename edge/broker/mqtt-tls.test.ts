/**
 * MQTT over TLS with per-edge identity (issue 14, item 2) against a real mosquitto and the fleet
 * CA: on the mTLS listener an edge is its certificate's CN (not the user name or client id it
 * claims) and dynsec's ACLs confine it to that edge's topics; no certificate, a self-signed, a
 * foreign-CA or an expired one is refused at the handshake; a deregistered edge is kicked and gets
 * nothing back on reconnect, and after a restart the CRL refuses its handshake; passwords work over
 * TLS; a half-done handshake holds nobody up.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect as connectTcp, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as connectTls } from 'node:tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { type MosquittoServer, startMosquitto, waitFor } from '../../infra/mod.ts';
import { type CertificateFiles, startTestPki, type TestPki } from '../../infra/tls.ts';
import { CA_KEY_FILE } from '../identity/mod.ts';
import { downlinkTopic, uplinkTopic } from '../protocol/mod.ts';
import { BrokerIdentities } from './broker-identities.ts';
import { DynsecClient } from './dynsec-client.ts';
import { LINK_USER } from './identities.ts';

const EDGES = ['E-1', 'E-2', 'E-3', 'E-4', 'E-5'];
const users: Record<string, string> = {
  [LINK_USER]: 'link-secret',
  ...Object.fromEntries(EDGES.map((id) => [id, `${id}-secret`])),
};
let pki: TestPki;
let broker: MosquittoServer;
let ca: Buffer;
let dynsec: DynsecClient;
let identities: BrokerIdentities;
const clients: MqttClient[] = [];
/** Every uplink message the hub side sees (topic and payload), on the plaintext loopback listener. */
const seen: string[] = [];
let watcher: MqttClient;

before(async () => {
  pki = await startTestPki();
  const crlFile = await pki.writeCrl([]);
  broker = await startMosquitto({
    users,
    tls: { caFile: pki.caFile, certFile: pki.server.certFile, keyFile: pki.server.keyFile, crlFile },
  });
  ca = readFileSync(pki.caFile);
  dynsec = new DynsecClient({ url: broker.url, ...broker.admin });
  identities = new BrokerIdentities(dynsec);
  watcher = await mqtt.connectAsync(broker.url, {
    username: LINK_USER,
    password: users[LINK_USER],
    protocolVersion: 5,
    reconnectPeriod: 500,
  });
  watcher.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
  await watcher.subscribeAsync(['dh/v1/+/up/#', 'dh/v1/+/legacy'], { qos: 1 });
});
after(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await watcher?.endAsync(true);
  await dynsec?.close();
  await broker?.stop();
});

const mtls = () => broker.tls!.mtlsUrl;

/** An MQTT 5 connection that does not reconnect; closed after the file. */
async function open(url: string, options: IClientOptions): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, {
    ca,
    protocolVersion: 5,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...options,
  });
  client.on('error', () => {});
  clients.push(client);
  return client;
}

const withCertificate = (cert: CertificateFiles, options: IClientOptions = {}) =>
  open(mtls(), { cert: cert.certificatePem, key: cert.privateKeyPem, ...options });

/** Why a connection was refused (its error's code and message); fails if it connected. */
async function refusal(url: string, options: IClientOptions): Promise<string> {
  return await open(url, options).then(
    () => assert.fail(`connected to ${url}`),
    (error: Error & { code?: string }) => `${error.code ?? ''} ${error.message}`,
  );
}

/** Publishes at QoS 1: `granted`, or the refusal's message (MQTT 5 PUBACK 0x87: not authorized). */
async function publishResult(client: MqttClient, topic: string, payload: string): Promise<string> {
  return await client.publishAsync(topic, payload, { qos: 1 }).then(
    () => 'granted',
    (error: Error) => error.message,
  );
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

/**
 * Everything the watcher has seen once `marker` (published now by a legitimate edge) reached it:
 * a message the broker had let through before the marker would have been delivered first.
 */
async function seenUpTo(marker: string): Promise<string[]> {
  const e1 = await withCertificate(await pki.issueEdge('E-1'));
  await e1.publishAsync(uplinkTopic('E-1', 'status'), marker, { qos: 1 });
  const line = `${uplinkTopic('E-1', 'status')} ${marker}`;
  await waitFor(() => seen.includes(line), { message: `the marker ${marker} to reach the hub side` });
  await e1.endAsync();
  return seen.slice(0, seen.indexOf(line));
}

const mosquittoLog = () => readFileSync(join(broker.dir, 'mosquitto.log'), 'utf8');

describe('the mTLS listener', () => {
  it('refuses an edge without a certificate, even with its right password (the hub’s listener too)', async () => {
    const why = await refusal(mtls(), { username: 'E-1', password: users['E-1'], clientId: 'E-1' });
    assert.match(why, /CERTIFICATE_REQUIRED|certificate required/i);
    const hubWhy = await refusal(broker.tls!.hubUrl, { username: LINK_USER, password: users[LINK_USER] });
    assert.match(hubWhy, /CERTIFICATE_REQUIRED|certificate required/i);
  });

  it('lets an edge with its certificate publish on its own topics only, and the hub side gets them', async () => {
    const e1 = await withCertificate(await pki.issueEdge('E-1'), { clientId: 'E-1' });
    assert.equal(await publishResult(e1, uplinkTopic('E-1', 'alarm'), 'own-1'), 'granted');
    assert.match(await publishResult(e1, uplinkTopic('E-2', 'alarm'), 'as-E-2'), /Not authorized/);
    assert.deepEqual(await subscribeCodes(e1, downlinkTopic('E-1')), [1]);
    assert.deepEqual(await subscribeCodes(e1, downlinkTopic('E-2')), [0x87]);
    const before = await seenUpTo('marker-own');
    assert.ok(before.includes(`${uplinkTopic('E-1', 'alarm')} own-1`), 'E-1’s message reached the hub side');
    assert.ok(!before.some((l) => l.includes('as-E-2')), 'nothing went out under E-2’s topic');
    await e1.endAsync();
  });

  it('makes an edge presenting another edge’s certificate that other edge, whatever user name and client id it claims', async () => {
    const victim = await withCertificate(await pki.issueEdge('E-1'), { clientId: 'E-1' });
    const kicked = new Promise<string>((resolve) => victim.once('close', () => resolve('kicked')));
    // E-1's neighbour holds E-2's certificate and key, and claims to be E-1 (its user, password
    // and client id): it is E-2, and cannot take E-1's session over by its client id.
    const e2cert = await pki.issueEdge('E-2');
    const impostor = await withCertificate(e2cert, {
      username: 'E-1',
      password: users['E-1'],
      clientId: 'E-1',
    });
    // A round trip on the victim's connection: a takeover would have closed it before this.
    assert.equal(
      await Promise.race([publishResult(victim, uplinkTopic('E-1', 'status'), 'victim-still-on'), kicked]),
      'granted',
      'the real E-1 was not kicked by a client id claiming to be it',
    );
    assert.match(await publishResult(impostor, uplinkTopic('E-1', 'alarm'), 'claims-E-1'), /Not authorized/);
    assert.deepEqual(await subscribeCodes(impostor, downlinkTopic('E-1')), [0x87]);
    // As E-2 it is confined to E-2's topics: E-2's own, nothing of E-3's.
    assert.equal(await publishResult(impostor, uplinkTopic('E-2', 'status'), 'as-cert-E-2'), 'granted');
    assert.match(await publishResult(impostor, uplinkTopic('E-3', 'status'), 'as-E-3'), /Not authorized/);
    assert.deepEqual(await subscribeCodes(impostor, downlinkTopic('E-3')), [0x87]);
    const before = await seenUpTo('marker-impostor');
    assert.ok(before.includes(`${uplinkTopic('E-2', 'status')} as-cert-E-2`));
    assert.ok(!before.some((l) => l.includes('claims-E-1') || l.includes('as-E-3')));
    assert.match(
      mosquittoLog(),
      /as E-2 \(p5, c1, k\d+, u'E-2'\)/,
      'the broker logs it as E-2, client id E-2',
    );
  });

  it('refuses a self-signed certificate, one of another CA naming the edge, and an expired one at the handshake, with the reason in its log', async () => {
    const other = await startTestPki();
    const selfSigned = {
      cert: readFileSync(other.caFile, 'utf8'),
      key: readFileSync(join(other.dir, CA_KEY_FILE), 'utf8'),
    };
    assert.match(await refusal(mtls(), selfSigned), /UNKNOWN_CA|unknown ca/i);
    const foreign = await other.issueEdge('E-1');
    assert.match(
      await refusal(mtls(), { cert: foreign.certificatePem, key: foreign.privateKeyPem }),
      /UNKNOWN_CA|unknown ca/i,
    );
    const expired = await pki.issueEdge('E-4', {
      now: new Date(Date.now() - 3 * 86_400_000),
      validityDays: 1,
    });
    assert.match(
      await refusal(mtls(), { cert: expired.certificatePem, key: expired.privateKeyPem }),
      /CERTIFICATE_EXPIRED|certificate expired/i,
    );
    assert.match(mosquittoLog(), /certificate verify failed/);
    // The broker is still there for everyone else.
    const e4 = await withCertificate(await pki.issueEdge('E-4'));
    assert.equal(await publishResult(e4, uplinkTopic('E-4', 'status'), 'e4-after'), 'granted');
  });

  it('refuses the server’s certificate to a client that trusts another CA', async () => {
    const other = await startTestPki();
    const e1 = await pki.issueEdge('E-1');
    const why = await refusal(mtls(), {
      ca: readFileSync(other.caFile),
      cert: e1.certificatePem,
      key: e1.privateKeyPem,
    });
    assert.match(why, /self[- ]signed|unable to verify|UNABLE_TO_VERIFY|SELF_SIGNED/i);
  });
});

describe('the password-over-TLS listener', () => {
  it('takes an edge’s password over TLS, checks the broker’s certificate, and refuses a wrong password', async () => {
    const tlsUrl = broker.tls!.tlsUrl;
    const e2 = await open(tlsUrl, { username: 'E-2', password: users['E-2'], clientId: 'E-2-pw' });
    assert.equal(await publishResult(e2, uplinkTopic('E-2', 'status'), 'pw-ok'), 'granted');
    assert.match(await publishResult(e2, uplinkTopic('E-1', 'status'), 'pw-as-E-1'), /Not authorized/);
    assert.match(
      await refusal(tlsUrl, { username: 'E-2', password: 'guess' }),
      /Bad User Name or Password|Not authorized/i,
    );
    // The plaintext port is not TLS: a client that asks for TLS there gets no connection.
    assert.match(
      await refusal(broker.url.replace('mqtt:', 'mqtts:'), { username: 'E-2', password: users['E-2'] }),
      /SSL|TLS|wrong version|packet length|ECONNRESET/i,
    );
    const before = await seenUpTo('marker-pw');
    assert.ok(before.includes(`${uplinkTopic('E-2', 'status')} pw-ok`));
    assert.ok(!before.some((l) => l.includes('pw-as-E-1')));
  });
});

/** The first bytes a TLS client sends (its ClientHello), captured from a loopback listener. */
async function clientHello(): Promise<Buffer> {
  const server = createServer();
  const first = new Promise<Buffer>((resolve) =>
    server.once('connection', (socket) => socket.once('data', (d: Buffer) => resolve(d))),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const tls = connectTls({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false });
  tls.on('error', () => {});
  const hello = await first;
  tls.destroy();
  server.close();
  return hello;
}

describe('a truncated TLS handshake', () => {
  it('holds up no other edge: half a ClientHello, garbage and silence on open sockets', async () => {
    const hello = await clientHello();
    assert.equal(hello[0], 0x16, 'a TLS handshake record');
    const hung: Socket[] = [];
    const openRaw = async (bytes: Buffer | undefined) => {
      const socket = connectTcp({ host: '127.0.0.1', port: broker.tls!.mtlsPort });
      socket.on('error', () => {});
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      if (bytes !== undefined) socket.write(bytes);
      hung.push(socket);
    };
    for (let i = 0; i < 20; i++) {
      await openRaw(hello.subarray(0, Math.floor(hello.length / 2)));
      await openRaw(Buffer.from('\x16\x03\x01\xff\xffGARBAGE'));
      await openRaw(undefined);
    }
    try {
      const e1 = await withCertificate(await pki.issueEdge('E-1'));
      assert.equal(await publishResult(e1, uplinkTopic('E-1', 'status'), 'while-hung'), 'granted');
      const pw = await open(broker.tls!.tlsUrl, { username: 'E-2', password: users['E-2'] });
      assert.equal(await publishResult(pw, uplinkTopic('E-2', 'status'), 'pw-while-hung'), 'granted');
      const before = await seenUpTo('marker-hung');
      assert.ok(before.includes(`${uplinkTopic('E-1', 'status')} while-hung`));
      assert.ok(before.includes(`${uplinkTopic('E-2', 'status')} pw-while-hung`));
      const halfOpen = hung.filter((s) => !s.destroyed && !s.readableEnded);
      assert.ok(halfOpen.length > 0, 'some of the hung sockets are still open while others connected');
    } finally {
      for (const s of hung) s.destroy();
    }
  });
});

describe('revocation of an edge with a certificate', () => {
  it('kicks it at once, gives a reconnect with the same certificate nothing, and refuses its handshake after a restart with the CRL', async () => {
    const cert = await pki.issueEdge('E-3');
    const session = { clientId: 'E-3', clean: false, properties: { sessionExpiryInterval: 3600 } };
    const e3 = await withCertificate(cert, session);
    assert.deepEqual(await subscribeCodes(e3, downlinkTopic('E-3')), [1]);
    assert.equal(await publishResult(e3, uplinkTopic('E-3', 'status'), 'before-revocation'), 'granted');
    // Deregistration: the gateway removes the edge's dynsec identity (and lists its serial in the CRL).
    await identities.removeEdge('E-3');
    await waitFor(() => !e3.connected, { message: 'the revoked edge to be kicked' });
    await pki.writeCrl([{ serial: cert.serial, revokedAt: new Date() }]);

    // mosquitto 2.0 read the CRL at start only: the handshake still succeeds, but the name is
    // nobody's — every publish and subscription is refused, and its old session delivers nothing.
    const again = await withCertificate(cert, session);
    const commands: string[] = [];
    again.on('message', (topic) => commands.push(topic));
    assert.match(
      await publishResult(again, uplinkTopic('E-3', 'alarm'), 'after-revocation'),
      /Not authorized/,
    );
    const hub = await open(broker.url, { username: LINK_USER, password: users[LINK_USER], ca: undefined });
    await hub.publishAsync(downlinkTopic('E-3'), 'command for the revoked E-3', { qos: 1 });
    // A SUBACK comes after anything the broker queued on this connection before it.
    assert.deepEqual(await subscribeCodes(again, downlinkTopic('E-3')), [0x87]);
    assert.deepEqual(commands, [], 'no command reached the revoked edge');
    const before = await seenUpTo('marker-revoked');
    assert.ok(before.includes(`${uplinkTopic('E-3', 'status')} before-revocation`));
    assert.ok(!before.some((l) => l.includes('after-revocation')), 'nothing it sent reached the hub side');
    await again.endAsync();

    // After a restart mosquitto has read the CRL: the revoked certificate fails its handshake.
    await broker.restart();
    assert.match(
      await refusal(mtls(), { cert: cert.certificatePem, key: cert.privateKeyPem }),
      /CERTIFICATE_REVOKED|certificate revoked/i,
    );
    const e5 = await withCertificate(await pki.issueEdge('E-5'));
    assert.equal(await publishResult(e5, uplinkTopic('E-5', 'status'), 'e5-after-restart'), 'granted');
    await waitFor(() => watcher.connected, { message: 'the watcher to reconnect' });
  });
});
