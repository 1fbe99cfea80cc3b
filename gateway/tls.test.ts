/**
 * The gateway over HTTPS (issue 14, items 4 and 6): an edge's configuration poll goes over TLS and
 * checks the certificate against the fleet CA; a plain-HTTP poll to the HTTPS port is refused with
 * a reason and never reaches the app; a gateway with a certificate from another CA is refused by
 * the agent; `/v1/events` works as wss; a truncated handshake is closed and logged; the
 * certificate is reloaded without a restart.
 */
// Redis Cluster pass: once (what this tests is HTTPS and its refusals; its Redis use is incidental).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import type { Logger } from '../actors/mod.ts';
import { ConfigPoller } from '../edge/agent/config.ts';
import { AgentHttpClient } from '../edge/agent/http-client.ts';
import { AgentError } from '../edge/agent/mod.ts';
import { waitFor } from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { startTestPki, type TestPki } from '../infra/tls.ts';
import { createApiKey } from './auth.ts';
import { openDatabase } from './db/database.ts';
import { createGateway, serveGateway } from './gateway.ts';

const t = useRedis();

/** A served HTTPS gateway with an operator key and a registered edge. */
async function httpsGateway(pki: TestPki, logger?: Logger) {
  const database = await openDatabase();
  const gateway = await createGateway({
    database,
    bus: t.bus(t.keyspace(), t.connect()),
    ...(logger === undefined ? {} : { logger }),
  });
  const served = await serveGateway(gateway, {
    tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile },
  });
  const { key } = await createApiKey(database.db, { name: 'ops', scope: 'operator' });
  const http = new AgentHttpClient({ ca: await readFile(pki.caFile) });
  const registered = await http.request(`${served.url}/v1/edges`, {
    what: 'register',
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'TLS-1' }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(registered.status, 201, registered.body);
  const { secret } = JSON.parse(registered.body) as { secret: string };
  return {
    served,
    key,
    secret,
    [Symbol.asyncDispose]: async () => {
      http.close();
      await served.close();
      await gateway.stop();
      await database.close();
    },
  };
}

const poller = (configUrl: string, password: string, ca?: Buffer) =>
  new ConfigPoller({
    configUrl,
    edgeId: 'TLS-1',
    password,
    longPollSeconds: 0,
    signal: AbortSignal.timeout(30_000),
    ...(ca === undefined ? {} : { configTls: { ca } }),
  });

/** What `promise` rejects with (undefined when it resolves). */
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('the gateway over HTTPS', { timeout: 60_000 }, () => {
  it('serves an edge’s configuration poll over TLS, checked against the fleet CA', async () => {
    const pki = await startTestPki();
    await using gw = await httpsGateway(pki);
    assert.match(gw.served.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const config = await poller(gw.served.url, gw.secret, await readFile(pki.caFile)).poll();
    assert.ok(config !== undefined && typeof config === 'object', 'the configuration over HTTPS');
  });

  it('refuses a plain-HTTP config poll on the HTTPS port with a reason, before the app sees it', async () => {
    const pki = await startTestPki();
    await using gw = await httpsGateway(pki);
    const plainUrl = gw.served.url.replace('https:', 'http:');
    const error = await failure(poller(plainUrl, gw.secret).poll());
    assert.ok(error instanceof AgentError, `an AgentError, got ${String(error)}`);
    assert.equal(error.code, 'CONFIG_UNAVAILABLE');
    assert.match(error.message, /HTTP 400 .*HTTPS_REQUIRED.*HTTPS only/);
    // An API call with a valid key gets the same refusal: nothing is served over plain HTTP.
    const res = await fetch(`${plainUrl}/v1/edges`, { headers: { authorization: `Bearer ${gw.key}` } });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'HTTPS_REQUIRED');
    // … and the same port still serves HTTPS afterwards.
    assert.ok(await poller(gw.served.url, gw.secret, await readFile(pki.caFile)).poll());
  });

  it('an agent refuses a gateway whose certificate comes from another CA, saying why', async () => {
    const fleet = await startTestPki();
    const other = await startTestPki();
    await using gw = await httpsGateway(other);
    const error = await failure(poller(gw.served.url, gw.secret, await readFile(fleet.caFile)).poll());
    assert.ok(error instanceof AgentError, `an AgentError, got ${String(error)}`);
    assert.equal(error.code, 'TLS_UNTRUSTED');
    assert.match(error.message, /not trusted .*the CA in caFile/);
  });

  it('refuses plain http:// to anywhere but loopback before connecting', async () => {
    const error = await failure(poller('http://gateway.example.invalid:8080', 'x').poll());
    assert.ok(error instanceof AgentError);
    assert.equal(error.code, 'INSECURE_URL');
  });

  it('keeps /v1/events working as wss and refuses a plain ws:// upgrade', async () => {
    const pki = await startTestPki();
    await using gw = await httpsGateway(pki);
    const ca = await readFile(pki.caFile);
    const wss = new WebSocket(`${gw.served.url.replace('https:', 'wss:')}/v1/events`, {
      headers: { authorization: `Bearer ${gw.key}` },
      ca,
    });
    const first = await new Promise<{ type: string }>((resolve, reject) => {
      wss.once('message', (data) => resolve(JSON.parse(String(data))));
      wss.once('error', reject);
    });
    wss.close();
    assert.equal(first.type, 'ready');
    const plain = new WebSocket(`${gw.served.url.replace('https:', 'ws:')}/v1/events`, {
      headers: { authorization: `Bearer ${gw.key}` },
    });
    const status = await new Promise<number>((resolve, reject) => {
      plain.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      plain.once('open', () => reject(new Error('a plain WebSocket was accepted')));
      plain.once('error', reject);
    });
    assert.equal(status, 400);
  });

  it('closes a truncated or garbled handshake, says why, and serves the next client', async () => {
    const pki = await startTestPki();
    const lines: { msg?: string; reason?: unknown }[] = [];
    const capture: Logger = {
      debug() {},
      info() {},
      warn: (obj, msg) => void lines.push({ ...obj, msg }),
      error: (obj, msg) => void lines.push({ ...obj, msg }),
      child: () => capture,
    };
    await using gw = await httpsGateway(pki, capture);
    const port = Number(new URL(gw.served.url).port);
    for (const bytes of [
      Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0xde, 0xad, 0xbe, 0xef, 0x00]), // no ClientHello
      Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]), // a ClientHello record cut short
    ]) {
      // Each is closed by the gateway: at once when garbled, at the handshake timeout when cut short.
      const socket = connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.resume(); // read what the gateway answers (a TLS alert), so its close shows
      socket.end(bytes);
      await new Promise((resolve) => socket.once('close', resolve).once('error', resolve));
    }
    await waitFor(() => lines.some((l) => l.msg === 'TLS handshake failed'), {
      message: 'the failed handshake logged',
    });
    assert.ok(await poller(gw.served.url, gw.secret, await readFile(pki.caFile)).poll(), 'still serving');
  });

  it('reloads its certificate without a restart', async () => {
    const pki = await startTestPki();
    await using gw = await httpsGateway(pki);
    const serial = async () => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port: Number(new URL(gw.served.url).port),
        ca: await readFile(pki.caFile),
        servername: 'localhost',
      });
      await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      const s = socket.getPeerCertificate().serialNumber;
      socket.destroy();
      return s.toLowerCase().replace(/^0+/, '');
    };
    const before = await serial();
    // The same CA, a new server certificate written over the files the gateway was given.
    const renewed = await startTestPki({ dir: pki.dir });
    assert.equal(renewed.server.certFile, pki.server.certFile);
    const norm = (s: string) => s.toLowerCase().replace(/^0+/, '');
    assert.notEqual(norm(renewed.server.serial), before);
    assert.equal(await serial(), before, 'the old certificate until reloaded');
    await gw.served.reloadTls();
    assert.equal(await serial(), norm(renewed.server.serial));
  });
});
