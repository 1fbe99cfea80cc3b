/**
 * The authenticated broker's settings without starting it (edge/link/kafka-auth.test.ts starts
 * one): the legacy PLAINTEXT listener only when asked for, and nothing allowed without an ACL.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { formatScramArgs, KAFKA_HUB_USER, kafkaSecrets, securityLines } from './kafka-security.ts';
import { startTestPki, type TestPki } from './tls.ts';

let pki: TestPki;
before(async () => {
  pki = await startTestPki();
});

const setting = (lines: string[], name: string) =>
  lines.find((l) => l.startsWith(`${name}=`))?.slice(name.length + 1);

describe('authenticated Kafka settings', () => {
  it('opens no PLAINTEXT listener unless the operator asks for one', () => {
    const secrets = kafkaSecrets();
    const lines = securityLines({ pki }, secrets, { port: 9093, controllerPort: 9094 });
    assert.equal(setting(lines, 'listeners'), 'SASL_SSL://127.0.0.1:9093,CONTROLLER://127.0.0.1:9094');
    assert.equal(setting(lines, 'advertised.listeners'), 'SASL_SSL://127.0.0.1:9093');
    assert.ok(!lines.some((l) => /PLAINTEXT:\/\//.test(l) || l.startsWith('LEGACY')));
    assert.equal(setting(lines, 'allow.everyone.if.no.acl.found'), 'false');
    assert.equal(setting(lines, 'sasl.enabled.mechanisms'), 'SCRAM-SHA-512');
    assert.match(setting(lines, 'super.users') ?? '', new RegExp(`User:${KAFKA_HUB_USER}`));

    const legacy = securityLines({ pki, legacyPlaintext: true }, secrets, {
      port: 9093,
      controllerPort: 9094,
      legacyPort: 9092,
    });
    assert.match(setting(legacy, 'listeners') ?? '', /LEGACY:\/\/127\.0\.0\.1:9092/);
    assert.match(setting(legacy, 'listener.security.protocol.map') ?? '', /LEGACY:PLAINTEXT/);
  });

  it('writes the hub’s and the broker’s SCRAM credentials at format time, and no edge’s', () => {
    const secrets = kafkaSecrets();
    const args = formatScramArgs(secrets);
    assert.equal(args.filter((a) => a === '--add-scram').length, 2);
    assert.ok(args.some((a) => a.includes(`name=${KAFKA_HUB_USER},password=${secrets.hubPassword}`)));
  });
});
