/**
 * deploy/mosquitto/mosquitto.conf as compose runs it, run by the local mosquitto (its paths and
 * ports moved to a temporary folder and free loopback ports): only its TLS listeners are
 * published, the mTLS one takes an edge by its certificate’s CN and refuses one without, the TLS
 * one takes a password; and the plaintext one, for the compose network only, still works.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import mqtt, { type IClientOptions } from 'mqtt';
import { parse } from 'yaml';
import { dynsecConfig, LINK_USER } from '../edge/broker/mod.ts';
import { uplinkTopic } from '../edge/protocol/mod.ts';
import { freePort } from '../infra/mod.ts';
import { dynsecPlugin, mosquittoBinary } from '../infra/mosquitto.ts';
import { type ServerProcess, startServerProcess } from '../infra/server-process.ts';
import { startTestPki, type TestPki } from '../infra/tls.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const conf = readFileSync(join(root, 'deploy/mosquitto/mosquitto.conf'), 'utf8');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, { ports?: string[] }>;
};

let pki: TestPki;
let server: ServerProcess;
const ports = { plain: 0, mtls: 0, tls: 0, hub: 0 };
const url = (port: number, scheme = 'mqtts') => `${scheme}://127.0.0.1:${port}`;

before(async () => {
  pki = await startTestPki();
  const dir = mkdtempSync(join(tmpdir(), 'devicehub-deploy-mosquitto-'));
  const certs = join(dir, 'certs');
  mkdirSync(certs);
  copyFileSync(pki.caFile, join(certs, 'ca.crt'));
  copyFileSync(pki.server.certFile, join(certs, 'server.crt'));
  copyFileSync(pki.server.keyFile, join(certs, 'server.key'));
  copyFileSync(await pki.writeCrl([]), join(certs, 'crl.pem'));
  writeFileSync(
    join(dir, 'dynamic-security.json'),
    JSON.stringify(
      dynsecConfig({ edges: { 'E-1': 'e1-secret' }, links: { [LINK_USER]: 'x' }, adminPassword: 'a' }),
    ),
  );
  ports.plain = await freePort();
  ports.mtls = await freePort();
  ports.tls = await freePort();
  ports.hub = await freePort();
  const local = conf
    .replace(/^listener 1883$/m, `listener ${ports.plain} 127.0.0.1`)
    .replace(/^listener 8883$/m, `listener ${ports.mtls} 127.0.0.1`)
    .replace(/^listener 8884$/m, `listener ${ports.tls} 127.0.0.1`)
    .replace(/^listener 8885$/m, `listener ${ports.hub} 127.0.0.1`)
    .replaceAll('/mosquitto/certs/', `${certs}/`)
    .replaceAll('/mosquitto/data/', `${dir}/`)
    .replace(/^plugin .*$/m, `plugin ${dynsecPlugin()}`)
    .replace(
      /^log_dest stdout$/m,
      `log_dest file ${join(dir, 'mosquitto.log')}\nuser ${userInfo().username}`,
    );
  writeFileSync(join(dir, 'mosquitto.conf'), local);
  server = await startServerProcess({
    name: 'mosquitto (deploy)',
    port: ports.plain,
    timeoutMs: 10_000,
    spawnServer: () => spawn(mosquittoBinary(), ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' }),
    describeExit: (code) => `mosquitto exited with ${code}; see ${dir}/mosquitto.log`,
  });
});
after(async () => {
  await server?.stop();
});

async function publishes(target: string, options: IClientOptions): Promise<void> {
  const client = await mqtt.connectAsync(target, {
    ca: pki.ca.certificatePem,
    protocolVersion: 5,
    reconnectPeriod: 0,
    ...options,
  });
  try {
    await client.publishAsync(uplinkTopic('E-1', 'status'), 'x', { qos: 1 });
  } finally {
    await client.endAsync();
  }
}

describe('deploy/mosquitto/mosquitto.conf', () => {
  it('is published outside the compose network on its TLS listeners only', () => {
    assert.deepEqual(compose.services.mosquitto?.ports, ['8883:8883', '8884:8884']);
    for (const port of ['8883', '8884', '8885']) {
      const block = conf.split(/^listener /m).find((b) => b.startsWith(`${port}\n`)) ?? '';
      assert.match(block, /^certfile /m, `${port} serves TLS`);
      assert.match(block, /^tls_version tlsv1\.2$/m, `${port}: TLS 1.2 at least`);
    }
  });

  it('takes an edge by its certificate on 8883 and refuses one without, its password over TLS on 8884, and the link by its certificate on 8885', async () => {
    const cert = await pki.issueEdge('E-1');
    await publishes(url(ports.mtls), { cert: cert.certificatePem, key: cert.privateKeyPem });
    await assert.rejects(
      publishes(url(ports.mtls), { username: 'E-1', password: 'e1-secret' }),
      /CERTIFICATE_REQUIRED|certificate required/i,
    );
    await publishes(url(ports.tls), { username: 'E-1', password: 'e1-secret' });
    await assert.rejects(
      publishes(url(ports.tls), { username: 'E-1', password: 'guess' }),
      /Not authorized|Bad/i,
    );
    await publishes(url(ports.plain, 'mqtt'), { username: 'E-1', password: 'e1-secret' });
    // The hub's listener takes the link's certificate, and no password.
    const link = await pki.issueService(LINK_USER);
    await publishes(url(ports.hub), { cert: link.certificatePem, key: link.privateKeyPem });
    await assert.rejects(
      publishes(url(ports.hub), { username: LINK_USER, password: 'x' }),
      /CERTIFICATE_REQUIRED|certificate required/i,
    );
  });
});
