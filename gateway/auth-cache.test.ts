/**
 * The authenticator's cache and what forgets it: an edge's change forgets that edge's lookups
 * (found or not) and no other's, so registering or rotating one edge does not make the whole
 * fleet look itself up again; forgetting all of them (a key revoked) still does.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { inArray } from 'drizzle-orm';
import { Authenticator } from './auth.ts';
import { openDatabase } from './db/database.ts';
import { edges } from './db/schema.ts';
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
