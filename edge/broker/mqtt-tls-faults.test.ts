/**
 * MQTT over TLS (issue 14, item 2) against a real mosquitto and the fleet CA, when things go wrong:
 * a half-done handshake holds nobody up; a deregistered edge is kicked and gets nothing back on
 * reconnect, and after a restart the CRL refuses its handshake. The listeners: mqtt-tls.test.ts.
 */
import assert from 'node:assert/strict';
import { connect as connectTcp, createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { connect as connectTls } from 'node:tls';
import { waitFor } from '../../infra/mod.ts';
import { downlinkTopic, uplinkTopic } from '../protocol/mod.ts';
import { LINK_USER } from './identities.ts';
import { publishResult, subscribeCodes, users, useTlsBroker } from './testdata/mqtt-tls-broker.ts';

const b = useTlsBroker();
const { mtls, open, withCertificate, refusal, seenUpTo } = b;

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
      const socket = connectTcp({ host: '127.0.0.1', port: b.broker.tls!.mtlsPort });
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
      const e1 = await withCertificate(await b.pki.issueEdge('E-1'));
      assert.equal(await publishResult(e1, uplinkTopic('E-1', 'status'), 'while-hung'), 'granted');
      const pw = await open(b.broker.tls!.tlsUrl, { username: 'E-2', password: users['E-2'] });
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
    const cert = await b.pki.issueEdge('E-3');
    const session = { clientId: 'E-3', clean: false, properties: { sessionExpiryInterval: 3600 } };
    const e3 = await withCertificate(cert, session);
    assert.deepEqual(await subscribeCodes(e3, downlinkTopic('E-3')), [1]);
    assert.equal(await publishResult(e3, uplinkTopic('E-3', 'status'), 'before-revocation'), 'granted');
    // Deregistration: the gateway removes the edge's dynsec identity (and lists its serial in the CRL).
    await b.identities.removeEdge('E-3');
    await waitFor(() => !e3.connected, { message: 'the revoked edge to be kicked' });
    await b.pki.writeCrl([{ serial: cert.serial, revokedAt: new Date() }]);

    // mosquitto 2.0 read the CRL at start only: the handshake still succeeds, but the name is
    // nobody's — every publish and subscription is refused, and its old session delivers nothing.
    const again = await withCertificate(cert, session);
    const commands: string[] = [];
    again.on('message', (topic) => commands.push(topic));
    assert.match(
      await publishResult(again, uplinkTopic('E-3', 'alarm'), 'after-revocation'),
      /Not authorized/,
    );
    const hub = await open(b.broker.url, { username: LINK_USER, password: users[LINK_USER], ca: undefined });
    await hub.publishAsync(downlinkTopic('E-3'), 'command for the revoked E-3', { qos: 1 });
    // A SUBACK comes after anything the broker queued on this connection before it.
    assert.deepEqual(await subscribeCodes(again, downlinkTopic('E-3')), [0x87]);
    assert.deepEqual(commands, [], 'no command reached the revoked edge');
    const before = await seenUpTo('marker-revoked');
    assert.ok(before.includes(`${uplinkTopic('E-3', 'status')} before-revocation`));
    assert.ok(!before.some((l) => l.includes('after-revocation')), 'nothing it sent reached the hub side');
    await again.endAsync();

    // After a restart mosquitto has read the CRL: the revoked certificate fails its handshake.
    await b.broker.restart();
    assert.match(
      await refusal(mtls(), { cert: cert.certificatePem, key: cert.privateKeyPem }),
      /CERTIFICATE_REVOKED|certificate revoked/i,
    );
    const e5 = await withCertificate(await b.pki.issueEdge('E-5'));
    assert.equal(await publishResult(e5, uplinkTopic('E-5', 'status'), 'e5-after-restart'), 'granted');
    await waitFor(() => b.watcher.connected, { message: 'the watcher to reconnect' });
  });
});
