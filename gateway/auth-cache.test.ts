/**
 * The authenticator's cache and what forgets it: an edge's change forgets that edge's lookups
 * (found or not) and no other's, so registering or rotating one edge does not make the whole
 * fleet look itself up again; a key's change forgets the keys' lookups only.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { eq, inArray } from 'drizzle-orm';
import { createApiKey } from './api-keys.ts';
import { Authenticator } from './auth.ts';
import { openDatabase } from './db/database.ts';
import { apiKeys, edges } from './db/schema.ts';
import { hashSecret } from './secrets.ts';
import { basic } from './testdata/harness.ts';

it("forgets one edge's cached lookups, found or not, and no other's", async () => {
  await using database = await openDatabase();
  const { db } = database;
  const register = (id: string) => db.insert(edges).values({ id, secretHash: hashSecret(`${id}-secret`) });
  await register('E-1');
  await register('E-2');
  const auth = new Authenticator(db);
  const status = async (id: string) => {
    const result = await auth.authenticate(basic(id, `${id}-secret`), '127.0.0.1');
    return result.ok ? 200 : result.status;
  };
  assert.equal(await status('E-1'), 200);
  assert.equal(await status('E-2'), 200);
  assert.equal(await status('E-3'), 401, 'not registered yet');
  // Behind the cache's back: both deregistered, E-3 registered.
  await db.delete(edges).where(inArray(edges.id, ['E-1', 'E-2']));
  await register('E-3');
  assert.equal(await status('E-1'), 200, 'cached');
  assert.equal(await status('E-3'), 401, 'its refusal is cached too');

  auth.forget('E-1');
  auth.forget('E-3');
  assert.equal(await status('E-1'), 401, 'E-1 looked up again: gone');
  assert.equal(await status('E-3'), 200, 'E-3 looked up again: registered');
  assert.equal(await status('E-2'), 200, "E-2's lookup is still cached: not forgotten with E-1's");

  auth.forget();
  assert.equal(await status('E-2'), 401, 'forgetting every lookup forgets E-2 too');
});

it("forgets the API keys' lookups, not the edges', when a key changes", async () => {
  await using database = await openDatabase();
  const { db } = database;
  await db.insert(edges).values({ id: 'E-1', secretHash: hashSecret('E-1-secret') });
  const { id, key } = await createApiKey(db, { name: 'ops', scope: 'operator' });
  const auth = new Authenticator(db);
  const ok = async (header: string) => (await auth.authenticate(header, '127.0.0.1')).ok;
  assert.ok(await ok(`Bearer ${key}`));
  assert.ok(await ok(basic('E-1', 'E-1-secret')));
  await db.update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.id, id));
  await db.delete(edges).where(eq(edges.id, 'E-1'));
  auth.forgetKeys();
  assert.equal(await ok(`Bearer ${key}`), false, 'the revoked key is looked up again: refused');
  assert.ok(await ok(basic('E-1', 'E-1-secret')), "the edge's lookup is still cached");
});

it('makes room in a full cache by dropping the expired lookups first', async () => {
  await using database = await openDatabase();
  const { db } = database;
  for (const id of ['A', 'B', 'C', 'D'])
    await db.insert(edges).values({ id, secretHash: hashSecret(`${id}-secret`) });
  let now = Date.now();
  const auth = new Authenticator(db, { maxCached: 3, now: () => now });
  const ok = async (id: string) => (await auth.authenticate(basic(id, `${id}-secret`), '127.0.0.1')).ok;
  assert.ok((await ok('A')) && (await ok('B')));
  now += 100_000; // past any found lookup's lifetime (a minute, spread ±50 %)
  assert.ok(await ok('C'));
  await db.delete(edges).where(eq(edges.id, 'C'));
  assert.ok(await ok('D'), 'the cache is full: A and B, expired, make room');
  assert.ok(await ok('C'), "C's lookup, not expired, is still cached (the whole cache was not cleared)");
});
