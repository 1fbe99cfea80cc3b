/**
 * deploy/haproxy/haproxy.cfg as compose runs it, run by the local HAProxy (its ports moved to free
 * loopback ports, the gateways to a stand-in, the certificate to a fleet-PKI one): HTTPS is
 * terminated and forwarded with X-Forwarded-Proto; plain HTTP — an edge's configuration poll with
 * its credentials, an API call with a key — is answered 400 HTTPS_REQUIRED and never forwarded.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigPoller } from '../edge/agent/config.ts';
import { AgentHttpClient } from '../edge/agent/http-client.ts';
import { AgentError } from '../edge/agent/mod.ts';
import { freePort } from '../infra/mod.ts';
import { type ServerProcess, startServerProcess } from '../infra/server-process.ts';
import { startTestPki, type TestPki } from '../infra/tls.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const HAPROXY = '/usr/sbin/haproxy';

let pki: TestPki;
let haproxy: ServerProcess;
let gateway: Server;
/** What reached the stand-in gateway, health checks aside. */
const forwarded: IncomingMessage[] = [];
const ports = { https: 0, plain: 0 };

before(async () => {
  if (!existsSync(HAPROXY)) throw new Error(`Cannot find ${HAPROXY}: run \`sh infra/provision.sh\``);
  pki = await startTestPki();
  gateway = createServer((req, res) => {
    if (req.url !== '/readyz') forwarded.push(req);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ version: 1, proto: req.headers['x-forwarded-proto'] ?? null }));
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  const dir = mkdtempSync(join(tmpdir(), 'devicehub-deploy-haproxy-'));
  writeFileSync(
    join(dir, 'gateway.pem'),
    `${pki.server.certificatePem.trimEnd()}\n${pki.server.privateKeyPem.trimEnd()}\n`,
    {
      mode: 0o600,
    },
  );
  ports.https = await freePort();
  ports.plain = await freePort();
  const standIn = `127.0.0.1:${(gateway.address() as AddressInfo).port}`;
  const cfg = readFileSync(join(root, 'deploy/haproxy/haproxy.cfg'), 'utf8')
    .replace(/bind :8443 /, `bind 127.0.0.1:${ports.https} `)
    .replace(/bind :8080$/m, `bind 127.0.0.1:${ports.plain}`)
    .replaceAll('/usr/local/etc/haproxy/certs/', `${dir}/`)
    .replace(/^(\s*server gateway-\d+) gateway-\d+:8080/gm, `$1 ${standIn}`)
    .replace(/^\s*log stdout .*$/m, '');
  assert.ok(cfg.includes(`${dir}/gateway.pem`), 'the certificate path was found');
  writeFileSync(join(dir, 'haproxy.cfg'), cfg);
  haproxy = await startServerProcess({
    name: 'haproxy (deploy)',
    port: ports.https,
    timeoutMs: 10_000,
    spawnServer: () => spawn(HAPROXY, ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: 'ignore' }),
    describeExit: (code) => `haproxy exited with ${code}; check with haproxy -c -f ${dir}/haproxy.cfg`,
  });
});
after(async () => {
  await haproxy?.stop();
  await new Promise((resolve) => gateway?.close(resolve));
});

describe('HAProxy in compose', { timeout: 60_000 }, () => {
  it('terminates TLS with the fleet certificate and forwards with X-Forwarded-Proto https', async () => {
    const http = new AgentHttpClient({ ca: readFileSync(pki.caFile) });
    try {
      const answer = await http.request(`https://localhost:${ports.https}/v1/config/edge/E-1`, {
        what: 'configuration',
        headers: { authorization: 'Basic RS0xOnNlY3JldA==' },
        signal: AbortSignal.timeout(10_000),
      });
      assert.equal(answer.status, 200);
      assert.equal(JSON.parse(answer.body).proto, 'https');
      assert.equal(forwarded.at(-1)?.headers.authorization, 'Basic RS0xOnNlY3JldA==');
    } finally {
      http.close();
    }
  });

  it('answers plain HTTP 400 HTTPS_REQUIRED and forwards none of it', async () => {
    const before = forwarded.length;
    const res = await fetch(`http://127.0.0.1:${ports.plain}/v1/edges`, {
      headers: { authorization: 'Bearer dhk_not_to_be_forwarded' },
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'HTTPS_REQUIRED');
    const error = await new ConfigPoller({
      configUrl: `http://127.0.0.1:${ports.plain}`,
      edgeId: 'E-1',
      password: 'secret',
      longPollSeconds: 0,
      signal: AbortSignal.timeout(10_000),
    })
      .poll()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(error instanceof AgentError);
    assert.match(error.message, /HTTP 400 .*HTTPS_REQUIRED/);
    assert.equal(forwarded.length, before, 'nothing reached a gateway');
  });
});
