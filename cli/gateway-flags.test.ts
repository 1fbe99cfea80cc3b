/**
 * `devicehub gateway`'s Kafka admin settings (the password from the environment only, the three
 * others from a flag or the environment) and the DH_TRUSTED_PROXIES check the settings table runs
 * without loading the gateway.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { kafkaAdminOptions } from './gateway-flags.ts';
import { addressRanges } from './setting-checks.ts';

const KAFKA_ENV = [
  'DH_KAFKA_ADMIN_BROKERS',
  'DH_KAFKA_ADMIN_USER',
  'DH_KAFKA_ADMIN_PASSWORD',
  'DH_KAFKA_ADMIN_CA_FILE',
] as const;
const saved = Object.fromEntries(KAFKA_ENV.map((name) => [name, process.env[name]]));
afterEach(() => {
  for (const name of KAFKA_ENV) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});
const clearEnv = () => {
  for (const name of KAFKA_ENV) delete process.env[name];
};

describe('devicehub gateway: the Kafka admin settings', () => {
  it('are off without brokers, and take the password from the environment only', () => {
    clearEnv();
    assert.equal(kafkaAdminOptions({}), undefined);
    process.env.DH_KAFKA_ADMIN_PASSWORD = 'from-env';
    assert.deepEqual(
      kafkaAdminOptions({ 'kafka-admin-brokers': 'k1:9093, k2:9093', 'kafka-admin-ca': 'ca.crt' }),
      {
        brokers: ['k1:9093', 'k2:9093'],
        username: 'hub@devicehub',
        password: 'from-env',
        caFile: 'ca.crt',
      },
    );
    process.env.DH_KAFKA_ADMIN_BROKERS = 'k3:9093';
    process.env.DH_KAFKA_ADMIN_CA_FILE = 'env-ca.crt';
    process.env.DH_KAFKA_ADMIN_USER = 'ops@devicehub';
    assert.deepEqual(kafkaAdminOptions({}), {
      brokers: ['k3:9093'],
      username: 'ops@devicehub',
      password: 'from-env',
      caFile: 'env-ca.crt',
    });
  });

  it('refuses brokers without the password in the environment or without the CA', () => {
    clearEnv();
    const flags = { 'kafka-admin-brokers': 'k1:9093', 'kafka-admin-ca': 'ca.crt' };
    // A password flag is not read (it would show in `ps`).
    assert.throws(() => kafkaAdminOptions({ ...flags, 'kafka-admin-password': 'on-the-command-line' }), {
      name: 'RangeError',
      message: /DH_KAFKA_ADMIN_PASSWORD \(environment only\)/,
    });
    process.env.DH_KAFKA_ADMIN_PASSWORD = 'from-env';
    assert.throws(() => kafkaAdminOptions({ 'kafka-admin-brokers': 'k1:9093' }), RangeError);
  });
});

describe('DH_TRUSTED_PROXIES check', () => {
  it('takes addresses and CIDR ranges, refuses anything else with the entry named', () => {
    assert.equal(addressRanges('10.0.0.0/8, 127.0.0.1,::1,fd00::/64'), undefined);
    for (const bad of ['not-an-address', '10.0.0.0/33', '10.0.0.0/x', '1.2.3.4/', '::/129', '10.0.0.1,']) {
      assert.match(addressRanges(bad) ?? '', /not an address or CIDR range/, bad);
    }
  });
});
