/**
 * Failed logins per source address: the limiter alone (bucket, refill, bounded memory, IPv6 per
 * /64, whose X-Forwarded-For is believed), then 10,000 failed logins from one address against a
 * real gateway over HTTP: limited (429 with Retry-After), counted in /metrics, warned about in a
 * few lines that never hold a secret, the gateway still answering — and, all the while, an edge
 * polling its configuration from another address and a valid key answered as ever.
 */
// Redis Cluster pass: once (what this tests is the per-address login limiter, in memory; its Redis use is incidental).
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import WebSocket from 'ws';
import { silentLogger } from '../actors/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { createApiKey } from './api-keys.ts';
import { openDatabase } from './db/database.ts';
import { EVENTS_PROTOCOL } from './events-socket.ts';
import { createGateway, serveGateway } from './gateway.ts';
import { bucketOf, LoginLimiter, TrustedProxies } from './login-limiter.ts';
import { basic } from './testdata/harness.ts';

const t = useRedis();

describe('login limiter', () => {
  it('allows a burst of failures per address, then refuses until they refill', () => {
    let now = 1_000_000;
    const limiter = new LoginLimiter({ burst: 3, perSecond: 0.5, logger: silentLogger, now: () => now });
    for (let i = 0; i < 3; i++) assert.equal(limiter.fail('198.51.100.1', 'bearer', 'unknown-key'), 0);
    assert.equal(limiter.fail('198.51.100.1', 'bearer', 'unknown-key'), 2, 'the 4th waits 2 s');
    assert.equal(limiter.retryAfter('198.51.100.2'), 0, 'another address is not limited');
    assert.equal(limiter.limitedAddresses(), 1);
    now += 2000;
    assert.equal(limiter.retryAfter('198.51.100.1'), 0, 'one failure regained');
    assert.equal(limiter.fail('198.51.100.1', 'basic', 'edge-credentials'), 0);
    assert.equal(limiter.failures.get('bearer|unknown-key'), 3);
    assert.equal(limiter.failures.get('basic|edge-credentials'), 1);
    assert.equal(limiter.limited.get('bearer'), 1);
    assert.throws(() => new LoginLimiter({ perSecond: 0, logger: silentLogger }), RangeError);
  });

  it('tracks at most maxAddresses, however many fail', () => {
    const limiter = new LoginLimiter({ burst: 2, maxAddresses: 1000, logger: silentLogger });
    for (let i = 0; i < 100_000; i++)
      limiter.fail(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 'bearer', 'unknown-key');
    assert.ok(limiter.size <= 1000, `${limiter.size} addresses tracked`);
  });

  it('counts IPv6 per /64 and IPv4-mapped addresses as IPv4', () => {
    assert.equal(bucketOf('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(bucketOf('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
    assert.equal(bucketOf('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(bucketOf('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(bucketOf('192.0.2.7'), '192.0.2.7');
  });

  it('believes X-Forwarded-For only from a trusted proxy, and only its own entry', () => {
    const none = new TrustedProxies();
    assert.equal(none.clientAddress('203.0.113.9', '198.51.100.1'), '203.0.113.9');
    const proxies = new TrustedProxies(['10.0.0.0/8', '127.0.0.1']);
    assert.equal(proxies.clientAddress('10.1.2.3', '198.51.100.1'), '198.51.100.1');
    assert.equal(proxies.clientAddress('::ffff:127.0.0.1', '198.51.100.1'), '198.51.100.1');
    // A client's own X-Forwarded-For comes first; the proxy appends the address it saw.
    assert.equal(proxies.clientAddress('10.1.2.3', '1.1.1.1, 198.51.100.1'), '198.51.100.1');
    assert.equal(proxies.clientAddress('10.1.2.3', '198.51.100.1, 10.9.9.9'), '198.51.100.1', 'two proxies');
    assert.equal(proxies.clientAddress('203.0.113.9', '198.51.100.1'), '203.0.113.9', 'not a proxy');
    assert.equal(proxies.clientAddress('10.1.2.3', 'garbage'), '10.1.2.3');
    assert.equal(proxies.clientAddress(undefined, undefined), 'in-process');
    assert.throws(() => new TrustedProxies(['not-an-address']), RangeError);
  });
});

/** A GET from a chosen local address (127.0.0.x are all this machine's). */
function getFrom(
  url: string,
  options: { from: string; headers?: Record<string, string> },
): Promise<{ status: number; retryAfter?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress: options.from, headers: options.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => {
        const retryAfter = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, body, ...(retryAfter === undefined ? {} : { retryAfter }) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('10,000 failed logins from one address', { timeout: 300_000 }, () => {
  it('are limited and counted; the gateway, an edge and a key from elsewhere are unaffected', async (ctx) => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    await using database = await openDatabase();
    // The default burst (30); a slow refill, so what follows the flood finds the address still limited.
    await using gateway = await createGateway({
      database,
      bus: t.bus(t.keyspace(), t.connect()),
      logger,
      authentication: { loginLimit: { perSecond: 0.01 } },
    });
    await using served = await serveGateway(gateway);
    const { key: operator } = await createApiKey(database.db, { name: 'ops', scope: 'operator' });
    const reg = await getFrom(`${served.url}/v1/edges/L-1`, {
      from: '127.0.0.2',
      headers: { authorization: `Bearer ${operator}` },
    });
    assert.equal(reg.status, 404);
    const created = await fetch(`${served.url}/v1/edges`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'L-1' }),
    });
    const { secret } = (await created.json()) as { secret: string };
    const edge = basic('L-1', secret);
    // The attacker's address also knows a valid key, used before the flood.
    assert.equal(
      (
        await getFrom(`${served.url}/v1/edges`, {
          from: '127.0.0.1',
          headers: { authorization: `Bearer ${operator}` },
        })
      ).status,
      200,
    );

    const ATTEMPTS = 10_000;
    const statuses = new Map<number, number>();
    const presented: string[] = [];
    let missingRetryAfter = 0;
    let next = 0;
    const attacker = async () => {
      for (let i = next++; i < ATTEMPTS; i = next++) {
        // Every attempt a new secret: a brute force, not a repeat the cache would answer.
        const authorization =
          i % 2 === 0
            ? `Bearer dhk_guess-${i}-${Math.random()}`
            : basic('L-1', `guess-${i}-${Math.random()}`);
        if (i % 500 === 0) presented.push(authorization);
        const res = await getFrom(`${served.url}/v1/config/edge/L-1`, {
          from: '127.0.0.1',
          headers: { authorization },
        });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 429 && !(Number(res.retryAfter) >= 1)) missingRetryAfter++;
      }
    };
    // Meanwhile, from another address: the edge polls its configuration, a service lists edges.
    let flooding = true;
    const others = { polls: 0, failed: [] as number[] };
    const bystander = async () => {
      while (flooding) {
        for (const authorization of [edge, `Bearer ${operator}`]) {
          const path = authorization === edge ? '/v1/config/edge/L-1' : '/v1/edges';
          const res = await getFrom(`${served.url}${path}`, {
            from: '127.0.0.2',
            headers: { authorization },
          });
          others.polls++;
          if (res.status !== 200) others.failed.push(res.status);
        }
      }
    };
    const watching = bystander();
    const started = performance.now();
    await Promise.all(Array.from({ length: 16 }, attacker));
    const seconds = (performance.now() - started) / 1000;
    flooding = false;
    await watching;

    const limited = statuses.get(429) ?? 0;
    const refused = statuses.get(401) ?? 0;
    assert.equal(limited + refused, ATTEMPTS, `only 401s and 429s: ${JSON.stringify([...statuses])}`);
    // 30 at once, then one per 100 s for as long as the flood lasted.
    assert.ok(refused >= 30 && refused <= 35, `${refused} attempts reached a lookup`);
    assert.equal(missingRetryAfter, 0, 'every 429 says when to try again');
    ctx.diagnostic(
      `${ATTEMPTS} failed logins in ${seconds.toFixed(1)} s (${Math.round(ATTEMPTS / seconds)}/s, 16 at once): ` +
        `${refused} × 401, ${limited} × 429; bystander ${others.polls} requests, all 200`,
    );
    assert.ok(others.polls >= 2, 'the bystander polled during the flood');
    assert.deepEqual(others.failed, [], 'the edge and the key elsewhere were answered as ever');

    // Still answering; the attacker's address keeps the key it had used, not a new one.
    assert.equal((await fetch(`${served.url}/healthz`)).status, 200);
    const seen = await getFrom(`${served.url}/v1/edges`, {
      from: '127.0.0.1',
      headers: { authorization: `Bearer ${operator}` },
    });
    assert.equal(seen.status, 200, 'a key seen valid from the address still passes');
    const { key: fresh } = await createApiKey(database.db, { name: 'new', scope: 'service' });
    const unseen = await getFrom(`${served.url}/v1/edges`, {
      from: '127.0.0.1',
      headers: { authorization: `Bearer ${fresh}` },
    });
    assert.equal(unseen.status, 429, 'credentials never seen are not looked up for a limited address');
    assert.match(JSON.parse(unseen.body).error.code, /RATE_LIMITED/);

    const metrics = await (await fetch(`${served.url}/metrics`)).text();
    const sample = (pattern: RegExp) =>
      [...metrics.matchAll(pattern)].reduce((sum, m) => sum + Number(m[1]), 0);
    const failures = sample(/^devicehub_auth_failures_total\{[^}]*\} (\d+)$/gm);
    const limitedTotal = sample(/^devicehub_auth_rate_limited_total\{[^}]*\} (\d+)$/gm);
    assert.equal(failures, refused, 'every 401 counted');
    assert.equal(limitedTotal, limited + 1, 'every 429 counted (and the unseen key’s)');
    assert.match(metrics, /^devicehub_auth_failures_total\{scheme="basic",reason="edge-credentials"\} \d+$/m);
    assert.match(metrics, /^devicehub_auth_limited_addresses 1$/m);

    // A few warnings naming the address and the reason; no secret presented.
    const warnings = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.level === 40 && l.component === 'auth');
    assert.ok(warnings.length >= 2 && warnings.length <= 10, `${warnings.length} warnings`);
    assert.ok(warnings.some((w) => w.address === '127.0.0.1' && w.reason === 'rate-limited'));
    assert.ok(warnings.some((w) => w.address === '127.0.0.1' && w.reason !== 'rate-limited'));
    for (const value of [...presented, ...presented.map((h) => h.split(' ')[1] ?? ''), secret, operator])
      assert.ok(!lines.some((l) => l.includes(value)), 'a secret in the log');
  });

  it('counts WebSocket upgrades with refused keys too', async () => {
    await using database = await openDatabase();
    await using gateway = await createGateway({
      database,
      bus: t.bus(t.keyspace(), t.connect()),
      authentication: { loginLimit: { burst: 3, perSecond: 0.01 } },
    });
    await using served = await serveGateway(gateway);
    const upgrade = (key: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${served.url.replace('http', 'ws')}/v1/events`, [
          EVENTS_PROTOCOL,
          `bearer.${key}`,
        ]);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
      });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await upgrade(`dhk_wrong-${i}`));
    assert.deepEqual(statuses, [401, 401, 401, 401, 401]);
    const metrics = await (await fetch(`${served.url}/metrics`)).text();
    assert.match(metrics, /^devicehub_auth_failures_total\{scheme="bearer",reason="unknown-key"\} 3$/m);
    assert.match(metrics, /^devicehub_auth_rate_limited_total\{scheme="bearer"\} 2$/m);
    const { key } = await createApiKey(database.db, { name: 'svc', scope: 'service' });
    assert.equal(
      (await fetch(`${served.url}/v1/edges`, { headers: { authorization: `Bearer ${key}` } })).status,
      429,
    );
  });

  it('a trusted proxy’s X-Forwarded-For picks the bucket; an untrusted one does not', async () => {
    await using database = await openDatabase();
    const bus = () => t.bus(t.keyspace(), t.connect());
    const loginLimit = { burst: 5, perSecond: 0.01 };
    await using trusting = await createGateway({
      database,
      bus: bus(),
      authentication: { trustedProxies: ['127.0.0.1'], loginLimit },
    });
    await using plain = await createGateway({ database, bus: bus(), authentication: { loginLimit } });
    await using viaProxy = await serveGateway(trusting);
    await using direct = await serveGateway(plain);
    const attempt = (url: string, forwardedFor: string) =>
      getFrom(`${url}/v1/edges`, {
        from: '127.0.0.1',
        headers: { authorization: `Bearer dhk_wrong-${Math.random()}`, 'x-forwarded-for': forwardedFor },
      });
    const run = async (url: string, forwardedFor: (i: number) => string) => {
      const out: number[] = [];
      for (let i = 0; i < 8; i++) out.push((await attempt(url, forwardedFor(i))).status);
      return out;
    };
    // Behind the proxy: one client is limited, another is not.
    assert.deepEqual(await run(viaProxy.url, () => '198.51.100.1'), [401, 401, 401, 401, 401, 429, 429, 429]);
    assert.equal((await attempt(viaProxy.url, '198.51.100.2')).status, 401, 'another client, its own bucket');
    // A client that makes up its own X-Forwarded-For to the proxy still lands in its own bucket.
    assert.equal((await attempt(viaProxy.url, '203.0.113.1, 198.51.100.1')).status, 429);
    // Not behind a trusted proxy: a new X-Forwarded-For each time changes nothing.
    assert.deepEqual(
      await run(direct.url, (i) => `198.51.100.${10 + i}`),
      [401, 401, 401, 401, 401, 429, 429, 429],
    );
  });
});
