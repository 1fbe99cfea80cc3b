/**
 * MQTT over TLS with per-edge identity (issue 14, item 2) against a real mosquitto and the fleet
 * CA, its listeners: on the mTLS listener an edge is its certificate's CN (not the user name or
 * client id it claims) and dynsec's ACLs confine it to that edge's topics; no certificate, a
 * self-signed, a foreign-CA or an expired one is refused at the handshake; passwords work over
 * TLS. A half-done handshake and revocation: mqtt-tls-faults.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startTestPki } from '../../infra/tls.ts';
import { CA_KEY_FILE } from '../identity/mod.ts';
import { downlinkTopic, uplinkTopic } from '../protocol/mod.ts';
import { LINK_USER } from './identities.ts';
import { publishResult, subscribeCodes, users, useTlsBroker } from './testdata/mqtt-tls-broker.ts';

const b = useTlsBroker();
const { mtls, open, withCertificate, refusal, seenUpTo, mosquittoLog } = b;

describe('the mTLS listener', () => {
  it('refuses an edge without a certificate, even with its right password (the hub’s listener too)', async () => {
    const why = await refusal(mtls(), { username: 'E-1', password: users['E-1'], clientId: 'E-1' });
    assert.match(why, /CERTIFICATE_REQUIRED|certificate required/i);
    const hubWhy = await refusal(b.broker.tls!.hubUrl, { username: LINK_USER, password: users[LINK_USER] });
    assert.match(hubWhy, /CERTIFICATE_REQUIRED|certificate required/i);
  });

  it('lets an edge with its certificate publish on its own topics only, and the hub side gets them', async () => {
    const e1 = await withCertificate(await b.pki.issueEdge('E-1'), { clientId: 'E-1' });
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
    const victim = await withCertificate(await b.pki.issueEdge('E-1'), { clientId: 'E-1' });
    const kicked = new Promise<string>((resolve) => victim.once('close', () => resolve('kicked')));
    // E-1's neighbour holds E-2's certificate and key, and claims to be E-1 (its user, password
    // and client id): it is E-2, and cannot take E-1's session over by its client id.
    const e2cert = await b.pki.issueEdge('E-2');
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
    const expired = await b.pki.issueEdge('E-4', {
      now: new Date(Date.now() - 3 * 86_400_000),
      validityDays: 1,
    });
    assert.match(
      await refusal(mtls(), { cert: expired.certificatePem, key: expired.privateKeyPem }),
      /CERTIFICATE_EXPIRED|certificate expired/i,
    );
    assert.match(mosquittoLog(), /certificate verify failed/);
    // The broker is still there for everyone else.
    const e4 = await withCertificate(await b.pki.issueEdge('E-4'));
    assert.equal(await publishResult(e4, uplinkTopic('E-4', 'status'), 'e4-after'), 'granted');
  });

  it('refuses the server’s certificate to a client that trusts another CA', async () => {
    const other = await startTestPki();
    const e1 = await b.pki.issueEdge('E-1');
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
    const tlsUrl = b.broker.tls!.tlsUrl;
    const e2 = await open(tlsUrl, { username: 'E-2', password: users['E-2'], clientId: 'E-2-pw' });
    assert.equal(await publishResult(e2, uplinkTopic('E-2', 'status'), 'pw-ok'), 'granted');
    assert.match(await publishResult(e2, uplinkTopic('E-1', 'status'), 'pw-as-E-1'), /Not authorized/);
    assert.match(
      await refusal(tlsUrl, { username: 'E-2', password: 'guess' }),
      /Bad User Name or Password|Not authorized/i,
    );
    // The plaintext port is not TLS: a client that asks for TLS there gets no connection.
    assert.match(
      await refusal(b.broker.url.replace('mqtt:', 'mqtts:'), { username: 'E-2', password: users['E-2'] }),
      /SSL|TLS|wrong version|packet length|ECONNRESET/i,
    );
    const before = await seenUpTo('marker-pw');
    assert.ok(before.includes(`${uplinkTopic('E-2', 'status')} pw-ok`));
    assert.ok(!before.some((l) => l.includes('pw-as-E-1')));
  });
});
