/**
 * API keys' expiry and rotation, in-process over a real Redis, once over PGlite and once over
 * PostgreSQL: keys are created with an end (bounded), listed with it, refused with a reason once
 * past it; a rotation hands out a new key once while the one before works for its grace period,
 * then stops — at once on the gateway that rotated, through the change channel on another, and
 * never later than its end whatever the cache holds (a clock the test moves).
 */
// Redis Cluster pass: once (what this tests is API keys in the database; its Redis use is incidental).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { createApiKey, KEY_LIFETIME_DAYS, rotateApiKey } from './api-keys.ts';
import { Authenticator } from './auth.ts';
import { createGateway } from './gateway.ts';
import { DATABASES, useGatewayHarness } from './testdata/harness.ts';

const t = useRedis();
const { useDatabase, setupDisposable } = useGatewayHarness(t);
const DAY_MS = 24 * 3600 * 1000;

interface KeyRow {
  id: string;
  state: string;
  expiresAt: string;
  rotatedAt: string | null;
  previousExpiresAt: string | null;
}

for (const which of DATABASES)
  describe(`API key expiry and rotation (${which})`, { timeout: 180_000 }, () => {
    useDatabase(which);

    it('gives every key an end (default, per key, bounded) and lists it', async () => {
      await using s = await setupDisposable();
      const create = (body: unknown) => s.call('POST', '/v1/api-keys', { key: s.keys.admin, body });
      const plain = await create({ name: 'plain', scope: 'service' });
      assert.equal(plain.status, 201);
      const made = (await plain.json()) as { id: string; key: string; expiresAt: string };
      const days = (iso: string) => Math.round((Date.parse(iso) - Date.now()) / DAY_MS);
      assert.equal(days(made.expiresAt), KEY_LIFETIME_DAYS.default);
      const short = (await (await create({ name: 'short', scope: 'service', expiresInDays: 7 })).json()) as {
        id: string;
      };
      for (const expiresInDays of [0, 366, 1.5])
        assert.equal(
          (await create({ name: 'bad', scope: 'service', expiresInDays })).status,
          400,
          `${expiresInDays}`,
        );

      const listed = await s.call('GET', '/v1/api-keys', { key: s.keys.admin });
      assert.equal(listed.status, 200);
      const text = await listed.text();
      assert.ok(!text.includes(made.key) && !text.includes('Hash'), 'neither keys nor hashes listed');
      const { keys } = JSON.parse(text) as { keys: KeyRow[] };
      const row = (id: string) => keys.find((k) => k.id === id);
      assert.equal(row(made.id)?.expiresAt, made.expiresAt);
      assert.equal(row(made.id)?.state, 'active');
      assert.equal(days(row(short.id)?.expiresAt ?? ''), 7);
      // The harness's bootstrap keys (createApiKey, as the demo and the CLI make theirs) have ends too.
      assert.equal(keys.length, 5);
      assert.ok(keys.every((k) => days(k.expiresAt) >= 7));
      assert.equal((await s.call('GET', '/v1/api-keys', { key: s.keys.operator })).status, 403);
    });

    it('refuses an expired key with the reason, and lists it as expired', async () => {
      await using s = await setupDisposable();
      const past = await createApiKey(s.database.db, {
        name: 'old',
        scope: 'admin',
        expiresAt: new Date(Date.now() - 1000),
      });
      const res = await s.call('GET', '/v1/edges', { key: past.key });
      assert.equal(res.status, 401);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(error.code, 'UNAUTHENTICATED');
      assert.match(error.message, new RegExp(`API key old \\(${past.id}\\) expired at`));
      const { keys } = (await (await s.call('GET', '/v1/api-keys', { key: s.keys.admin })).json()) as {
        keys: KeyRow[];
      };
      assert.equal(keys.find((k) => k.id === past.id)?.state, 'expired');
    });

    it('rotates a key: the new one at once, the one before through its grace, then not, on every gateway', async () => {
      await using s = await setupDisposable();
      await using other = await createGateway({ database: s.database, bus: t.bus(s.keyspace, t.connect()) });
      const onOther = async (key: string) =>
        (await other.app.request('/v1/edges', { headers: { authorization: `Bearer ${key}` } })).status;
      const { id, key: first } = (await (
        await s.call('POST', '/v1/api-keys', { key: s.keys.admin, body: { name: 'web', scope: 'service' } })
      ).json()) as { id: string; key: string };
      assert.equal(await onOther(first), 200); // now in the other gateway's cache

      const rotate = (body: unknown, key = s.keys.admin) =>
        s.call('POST', `/v1/api-keys/${id}/rotate`, { key, body });
      assert.equal((await rotate({}, s.keys.operator)).status, 403);
      assert.equal((await rotate({ graceSeconds: 8 * 24 * 3600 })).status, 400, 'grace past its bound');
      const res = await rotate({ graceSeconds: 3600, expiresInDays: 30 });
      assert.equal(res.status, 200);
      const r1 = (await res.json()) as {
        id: string;
        key: string;
        expiresAt: string;
        previousExpiresAt: string;
      };
      assert.equal(r1.id, id);
      assert.notEqual(r1.key, first);
      assert.ok(Math.abs(Date.parse(r1.previousExpiresAt) - (Date.now() + 3600_000)) < 60_000);
      for (const key of [first, r1.key]) {
        assert.equal(
          (await s.call('GET', '/v1/edges', { key })).status,
          200,
          'in its grace, and the new one',
        );
        assert.equal(await onOther(key), 200);
      }
      const listed = (await (await s.call('GET', '/v1/api-keys', { key: s.keys.admin })).json()) as {
        keys: KeyRow[];
      };
      const row = listed.keys.find((k) => k.id === id);
      assert.equal(row?.previousExpiresAt, r1.previousExpiresAt);
      assert.equal(row?.expiresAt, r1.expiresAt);

      // Rotating again with no grace: the key before (r1) stops now, and the first one with it.
      const r2 = (await (await rotate({ graceSeconds: 0 })).json()) as { key: string };
      for (const key of [first, r1.key]) {
        const refused = await s.call('GET', '/v1/edges', { key });
        assert.equal(refused.status, 401, 'at once on the gateway that rotated');
        assert.match(
          ((await refused.json()) as { error: { message: string } }).error.message,
          key === first ? /Unknown API key/ : /was rotated at .*stopped working at/,
        );
        await waitFor(async () => (await onOther(key)) === 401, {
          timeoutMs: 3000,
          message: 'the other gateway to refuse the key before, despite its cache',
        });
      }
      assert.equal((await s.call('GET', '/v1/edges', { key: r2.key })).status, 200);
      assert.equal(await onOther(r2.key), 200);

      assert.equal(
        (await s.call('POST', '/v1/api-keys/key-nope/rotate', { key: s.keys.admin, body: {} })).status,
        404,
      );
      assert.equal((await s.call('DELETE', `/v1/api-keys/${id}`, { key: s.keys.admin })).status, 204);
      assert.equal((await rotate({})).status, 409, 'a revoked key is not rotated');
      assert.equal((await s.call('GET', '/v1/edges', { key: r2.key })).status, 401);
    });

    it('stops a cached key at its end: its expiry, or the end of a rotation’s grace', async () => {
      await using s = await setupDisposable();
      let now = Date.now();
      const auth = new Authenticator(s.database.db, { now: () => now });
      const start = now;
      const expiring = await createApiKey(s.database.db, {
        name: 'soon',
        scope: 'service',
        expiresAt: new Date(start + 10 * 60_000),
      });
      const rotating = await createApiKey(s.database.db, { name: 'rotating', scope: 'service' });
      const bearer = (key: string) => `Bearer ${key}`;
      assert.equal((await auth.principal(bearer(expiring.key)))?.id, expiring.id);
      assert.equal((await auth.principal(bearer(rotating.key)))?.id, rotating.id);
      const rotated = await rotateApiKey(s.database.db, rotating.id, { graceSeconds: 300 });

      // Cached (a minute at most) and within their ends: still valid.
      now = start + 20_000;
      assert.equal((await auth.principal(bearer(expiring.key)))?.id, expiring.id);
      assert.equal((await auth.principal(bearer(rotating.key)))?.id, rotating.id, 'in its grace');
      assert.equal((await auth.principal(bearer(rotated.key)))?.id, rotating.id);
      // Past the grace (5 min) and the expiry (10 min): refused, with the reason.
      now = rotated.previousExpiresAt.getTime();
      const afterGrace = await auth.authenticate(bearer(rotating.key), '192.0.2.1');
      assert.ok(!afterGrace.ok && afterGrace.status === 401 && /was rotated/.test(afterGrace.message));
      assert.equal((await auth.principal(bearer(rotated.key)))?.id, rotating.id, 'the new key stays');
      now = start + 10 * 60_000 + 1;
      const expired = await auth.authenticate(bearer(expiring.key), '192.0.2.1');
      assert.ok(!expired.ok && expired.status === 401 && /expired at/.test(expired.message));
      // A key cached for its full minute from just before its end still stops at the end.
      now = start;
      const edge = await createApiKey(s.database.db, {
        name: 'edge-of-end',
        scope: 'service',
        expiresAt: new Date(start + 1000),
      });
      assert.ok(await auth.principal(bearer(edge.key)));
      now = start + 1000;
      assert.equal(await auth.principal(bearer(edge.key)), undefined);
    });
  });
