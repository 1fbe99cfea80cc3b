/**
 * Secrets are never logged (issue 14, item 5): a realistic run at debug level — a gateway over
 * HTTP managing a real mosquitto's identities and a fleet CA, API keys created, rotated and
 * revoked, edges registered, an edge's secret rotated, the on-device agent polling its
 * configuration with its credentials, logging in to the broker and adopting rotated credentials,
 * a certificate issued with its key, failed logins until the address is limited, the event
 * WebSocket with its key as a subprotocol — each process logging through the CLI's own logger
 * into a file. Then every line of every file is searched for every secret that was issued or
 * presented (API keys, edge secrets, broker passwords, private-key lines, the Basic headers as
 * sent): none may be there. And the logger's redaction blanks authorization and password fields.
 */
// Redis Cluster pass: once (what this tests is what the logs say; its Redis use is incidental).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import WebSocket from 'ws';
import { processLogger } from '../cli/logger.ts';
import { EdgeAgent } from '../edge/agent/mod.ts';
import { LINK_USER } from '../edge/broker/mod.ts';
import { birthOf } from '../edge/mod.ts';
import { startMosquitto, waitFor } from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { createApiKey } from './api-keys.ts';
import { openDatabase } from './db/database.ts';
import { edges } from './db/schema.ts';
import { EVENTS_PROTOCOL } from './events-socket.ts';
import { createGateway, serveGateway } from './gateway.ts';
import { basic } from './testdata/harness.ts';

const t = useRedis();

/** What the calls here answer (the fields they read). */
interface Answer {
  id?: string;
  key?: string;
  secret?: string;
  privateKeyPem?: string;
}

describe('secrets in the logs', { timeout: 120_000 }, () => {
  it('are never written, whatever a full run does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'no-secrets-'));
    const level = process.env.DH_LOG_LEVEL;
    process.env.DH_LOG_LEVEL = 'debug';
    const files = { gateway: join(dir, 'gateway.log'), agent: join(dir, 'agent.log') };
    const gatewayLog = processLogger('gateway', {}, { file: files.gateway });
    const agentLog = processLogger('agent', { edgeId: 'S-1' }, { file: files.agent });
    if (level === undefined) delete process.env.DH_LOG_LEVEL;
    else process.env.DH_LOG_LEVEL = level;
    const secrets = new Set<string>();
    const keep = (secret: string) => {
      secrets.add(secret);
      return secret;
    };
    /** Every Basic header sent, as sent. */
    const headers: string[] = [];
    const edgeAuth = (id: string, secret: string) => {
      const header = basic(id, secret);
      headers.push(header.slice('Basic '.length));
      return header;
    };

    const linkPassword = keep(`link-${Math.random().toString(36).slice(2)}`);
    await using broker = await startMosquitto({ users: {} });
    keep(broker.admin.password);
    await using database = await openDatabase();
    await using gateway = await createGateway({
      database,
      bus: t.bus(t.keyspace(), t.connect()),
      logger: gatewayLog,
      broker: { url: broker.url, ...broker.admin, reconcileMs: 0, links: { [LINK_USER]: linkPassword } },
      authentication: { loginLimit: { burst: 10, perSecond: 0.01 } },
      identity: { dir: mkdtempSync(join(tmpdir(), 'no-secrets-ca-')), create: true, expireMs: 3_600_000 },
    });
    await using served = await serveGateway(gateway);
    const admin = keep((await createApiKey(database.db, { name: 'bootstrap', scope: 'admin' })).key);
    const call = async (
      method: string,
      path: string,
      o: { key?: string; auth?: string; body?: unknown } = {},
    ) => {
      const authorization = o.auth ?? `Bearer ${o.key ?? admin}`;
      const res = await fetch(`${served.url}${path}`, {
        method,
        headers: {
          authorization,
          ...(o.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: o.body === undefined ? undefined : JSON.stringify(o.body),
      });
      const text = await res.text();
      return {
        status: res.status,
        json: text === '' ? undefined : (JSON.parse(text) as Answer),
      };
    };

    // API keys: created, used, rotated (both used in the grace period), listed, revoked.
    const made = await call('POST', '/v1/api-keys', { body: { name: 'ops', scope: 'operator' } });
    assert.equal(made.status, 201);
    const operator = keep(made.json?.key ?? '');
    const rotated = await call('POST', `/v1/api-keys/${made.json?.id}/rotate`, {
      body: { graceSeconds: 60 },
    });
    assert.equal(rotated.status, 200);
    const operator2 = keep(rotated.json?.key ?? '');
    for (const key of [operator, operator2])
      assert.equal((await call('GET', '/v1/edges', { key })).status, 200);
    assert.equal((await call('GET', '/v1/api-keys')).status, 200);
    const service = await call('POST', '/v1/api-keys', { body: { name: 'web', scope: 'service' } });
    const serviceKey = keep(service.json?.key ?? '');
    assert.equal((await call('DELETE', `/v1/api-keys/${service.json?.id}`)).status, 204);
    assert.equal((await call('GET', '/v1/edges', { key: serviceKey })).status, 401);

    // Edges registered (the broker told), the pool pointed at the broker.
    const secretOf: Record<string, string> = {};
    for (const id of ['S-1', 'S-2']) {
      const reg = await call('POST', '/v1/edges', { key: operator2, body: { id } });
      assert.equal(reg.status, 201);
      secretOf[id] = keep(reg.json?.secret ?? '');
    }
    assert.equal(
      (
        await call('PUT', '/v1/brokers/a', {
          key: operator2,
          body: { transport: 'mqtt', address: broker.url, weight: 1 },
        })
      ).status,
      200,
    );

    // The agent: configuration with its credentials, then the broker with its password.
    const agentDir = mkdtempSync(join(tmpdir(), 'agent-'));
    await using agent = await new EdgeAgent({
      edgeId: 'S-1',
      password: secretOf['S-1'] ?? '',
      birth: birthOf('S-1'),
      dataDir: agentDir,
      configUrl: served.url,
      logger: agentLog,
    }).start();
    await waitFor(() => agent.stats.brokerUrl === broker.url, { message: 'the agent on the broker' });

    // An edge's secret rotated: the new one works, the old one is refused.
    const before = secretOf['S-2'] ?? '';
    const rotatedEdge = await call('POST', '/v1/edges/S-2/secret', { key: admin });
    assert.equal(rotatedEdge.status, 200, JSON.stringify(rotatedEdge.json));
    const after = keep(rotatedEdge.json?.secret ?? '');
    assert.equal((await call('GET', '/v1/config/edge/S-2', { auth: edgeAuth('S-2', after) })).status, 200);
    assert.equal((await call('GET', '/v1/config/edge/S-2', { auth: edgeAuth('S-2', before) })).status, 401);

    // The agent's credentials rotated: it takes the new secret from its configuration, confirms it
    // by using it and logs in to the broker with it; the old one then stops. And a certificate
    // made here, its private key shown once.
    const s1 = secretOf['S-1'] ?? '';
    const started = await call('POST', '/v1/edges/S-1/credentials/rotate', { body: { graceSeconds: 3600 } });
    assert.equal(started.status, 202, JSON.stringify(started.json));
    await waitFor(
      async () => {
        const [row] = await database.db.select().from(edges).where(eq(edges.id, 'S-1'));
        return row?.pendingSecret === null && row.previousSecretHash === null;
      },
      { timeoutMs: 20_000, message: 'the agent to adopt and confirm its new secret' },
    );
    const saved = JSON.parse(readFileSync(join(agentDir, 'credentials.json'), 'utf8')) as {
      password: string;
    };
    const fresh = keep(saved.password);
    assert.notEqual(fresh, s1);
    edgeAuth('S-1', fresh); // as the agent sends it now
    assert.equal((await call('GET', '/v1/config/edge/S-1', { auth: edgeAuth('S-1', s1) })).status, 401);
    const issued = await call('POST', '/v1/pki/edges/S-2/certificate', { key: operator2, body: {} });
    assert.equal(issued.status, 201, JSON.stringify(issued.json));
    const keyLines = (issued.json?.privateKeyPem ?? '')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('-----'));
    assert.ok(keyLines.length > 0, 'a private key');
    for (const line of keyLines) keep(line);

    // Failed logins until the address is limited: wrong keys, wrong edge secrets, junk.
    const statuses = new Set<number>();
    for (let i = 0; i < 30; i++) {
      const auth = [
        `Bearer ${keep(`dhk_wrong${i}${Math.random()}`)}`,
        edgeAuth('S-1', keep(`wrong-${i}-${Math.random()}`)),
        `Digest ${keep(`junk${i}${Math.random()}`)}`,
      ][i % 3];
      statuses.add((await call('GET', '/v1/config/edge/S-1', { auth })).status);
    }
    assert.deepEqual([...statuses].sort(), [401, 429]);

    // The event WebSocket, its key as a subprotocol: a valid one and a wrong one.
    const socket = (key: string) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(`${served.url.replace('http', 'ws')}/v1/events`, [
          EVENTS_PROTOCOL,
          `bearer.${key}`,
        ]);
        ws.on('open', () => {
          ws.close();
          resolve('open');
        });
        ws.on('error', () => resolve('refused'));
      });
    assert.equal(await socket(operator2), 'open');
    assert.equal(await socket(keep(`dhk_${Math.random().toString(36).slice(2)}`)), 'refused');

    // Something logged the whole time, and a header or password handed to the logger is blanked.
    gatewayLog.warn(
      { headers: { authorization: `Bearer ${admin}` }, password: linkPassword },
      'redaction check',
    );
    await served.close();
    await gateway.stop();
    const lines = Object.values(files).flatMap((file) =>
      readFileSync(file, 'utf8').split('\n').filter(Boolean),
    );
    const messages = lines.map((l) => (JSON.parse(l) as { msg?: string }).msg);
    for (const expected of ['authentication failed', 'new credentials adopted', 'redaction check'])
      assert.ok(messages.includes(expected), `logged: ${expected}`);
    assert.ok(
      lines.some((l) => l.includes('"service":"agent"')),
      'the agent logged',
    );
    assert.ok(lines.length >= 5, `${lines.length} lines`);

    edgeAuth('S-1', secretOf['S-1'] ?? ''); // as the agent sent it
    const presented = [...[...secrets].flatMap((s) => [s, Buffer.from(s).toString('base64')]), ...headers];
    for (const value of presented) {
      const found = lines.find((l) => l.includes(value));
      assert.equal(found, undefined, `a secret in the log: ${found}`);
    }
  });
});
