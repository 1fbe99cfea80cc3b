/**
 * The retention sweeper against real PostgreSQL, Redis and a file:// object store: clips stored
 * and past their expiry lose their objects and become 'deleted'; others stay; batches; the lease
 * lets one worker sweep at a time; a deletion that fails is tried again.
 */
// Redis Cluster pass: once (what this tests is the database rows and the object store; Redis holds only the named lease, whose script the bus's own tests run on the cluster).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eq, inArray } from 'drizzle-orm';
import { type Database, openDatabase } from '../../gateway/db/database.ts';
import { clips } from '../../gateway/db/schema.ts';
import { type PostgresServer, startPostgres, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import {
  clipMetaKey,
  clipPosterKey,
  clipVideoKey,
  FsObjectStore,
  type ObjectStore,
} from '../../objects/mod.ts';
import { startClipRetention } from './mod.ts';

const t = useRedis();
let postgres: PostgresServer;
let database: Database;
let store: FsObjectStore;
let dir = '';
let n = 0;

before(async () => {
  postgres = await startPostgres();
  database = await openDatabase({ url: await postgres.createDatabase(`retention_${process.pid}`) });
  dir = await mkdtemp(join(tmpdir(), 'dh-retention-'));
  store = await FsObjectStore.open(dir);
});
after(async () => {
  await database?.close();
  await postgres?.stop();
  await rm(dir, { recursive: true, force: true });
});

const HOUR = 3600_000;

/** A clip row (and its three objects when stored), expiring `expiresInMs` from now. */
async function clip(status: 'stored' | 'failed' | 'deleted', expiresInMs: number): Promise<string> {
  const id = `c${(++n).toString(16).padStart(31, '0')}`;
  const now = Date.now();
  await database.db.insert(clips).values({
    id,
    edgeId: 'edge-1',
    alarm: 'trapped',
    alarmSince: new Date(now - 2 * HOUR),
    alarmEnd: new Date(now - 2 * HOUR + 60_000),
    windowStart: new Date(now - 2 * HOUR - 10_000),
    windowEnd: new Date(now - 2 * HOUR + 70_000),
    status,
    requestedAt: new Date(now - 2 * HOUR),
    retentionDays: 1,
    expiresAt: new Date(now + expiresInMs),
    ...(status === 'stored'
      ? { videoKey: clipVideoKey(id), posterKey: clipPosterKey(id), storedAt: new Date() }
      : {}),
  });
  if (status === 'stored') {
    for (const key of [clipVideoKey(id), clipPosterKey(id), clipMetaKey(id)]) {
      await store.put(key, bytes(`bytes of ${key}`));
    }
  }
  return id;
}

async function* bytes(text: string): AsyncIterable<Uint8Array> {
  yield Buffer.from(text);
}

async function statusOf(ids: string[]): Promise<string[]> {
  const rows = await database.db
    .select({ id: clips.id, status: clips.status })
    .from(clips)
    .where(inArray(clips.id, ids));
  const by = new Map(rows.map((r) => [r.id, r.status]));
  return ids.map((id) => by.get(id) ?? 'missing');
}

async function objectsOf(id: string): Promise<number> {
  let found = 0;
  for (const key of [clipVideoKey(id), clipPosterKey(id), clipMetaKey(id)])
    if (await store.head(key)) found++;
  return found;
}

async function clearClips(): Promise<void> {
  await database.db.update(clips).set({ status: 'deleted' }).where(eq(clips.status, 'stored'));
}

describe('clip retention', () => {
  test('deletes the objects of stored clips past expiry and marks them deleted, nothing else', async () => {
    await clearClips();
    const expired = await clip('stored', -HOUR);
    const fresh = await clip('stored', HOUR);
    const failed = await clip('failed', -HOUR);
    const keyspace = t.keyspace();
    await using retention = startClipRetention({
      bus: t.bus(keyspace),
      db: database.db,
      store,
      holder: 'w1',
      everyMs: 3_600_000,
    });
    assert.equal(await retention.sweep(), 1);
    assert.deepEqual(await statusOf([expired, fresh, failed]), ['deleted', 'stored', 'failed']);
    assert.equal(await objectsOf(expired), 0);
    assert.equal(await objectsOf(fresh), 3);
    assert.deepEqual(retention.stats, { sweeps: 1, deleted: 1, errors: 0 });
    assert.equal(await retention.sweep(), 0, 'nothing left to delete');
  });

  test('works a backlog off in batches within one sweep, up to maxBatches', async () => {
    await clearClips();
    const ids = [];
    for (let i = 0; i < 7; i++) ids.push(await clip('stored', -HOUR - i * 1000));
    const keyspace = t.keyspace();
    await using retention = startClipRetention({
      bus: t.bus(keyspace),
      db: database.db,
      store,
      holder: 'w1',
      everyMs: 3_600_000,
      batchSize: 2,
      maxBatches: 3,
    });
    assert.equal(await retention.sweep(), 6, 'three batches of two');
    assert.equal((await statusOf(ids)).filter((s) => s === 'deleted').length, 6);
    // Oldest expiry first: the one left is the latest to expire.
    assert.deepEqual(await statusOf([ids[0]!]), ['stored']);
    assert.equal(await retention.sweep(), 1);
  });

  test('only the lease holder sweeps; another takes over once it is given up', async () => {
    await clearClips();
    const keyspace = t.keyspace();
    const bus = t.bus(keyspace);
    const first = startClipRetention({ bus, db: database.db, store, holder: 'w1', everyMs: 3_600_000 });
    await using second = startClipRetention({
      bus,
      db: database.db,
      store,
      holder: 'w2',
      everyMs: 3_600_000,
    });
    assert.equal(await first.sweep(), 0);
    const id = await clip('stored', -HOUR);
    assert.equal(await second.sweep(), 0, 'w1 holds the lease');
    assert.equal(second.stats.sweeps, 0);
    assert.deepEqual(await statusOf([id]), ['stored']);
    await first.close();
    assert.equal(await second.sweep(), 1);
    assert.deepEqual(await statusOf([id]), ['deleted']);
  });

  test('a clip whose objects cannot be deleted stays stored and is deleted by a later sweep', async () => {
    await clearClips();
    const stuck = await clip('stored', -HOUR);
    const ok = await clip('stored', -HOUR + 1000);
    let failing = true;
    const flaky: ObjectStore = Object.create(store, {
      delete: {
        value: async (key: string) => {
          if (failing && key === clipPosterKey(stuck)) throw new Error('store unavailable');
          return store.delete(key);
        },
      },
    });
    const keyspace = t.keyspace();
    await using retention = startClipRetention({
      bus: t.bus(keyspace),
      db: database.db,
      store: flaky,
      holder: 'w1',
      everyMs: 3_600_000,
    });
    assert.equal(await retention.sweep(), 1);
    assert.deepEqual(await statusOf([stuck, ok]), ['stored', 'deleted']);
    assert.equal(retention.stats.errors, 1);
    failing = false;
    assert.equal(await retention.sweep(), 1);
    assert.deepEqual(await statusOf([stuck]), ['deleted']);
    assert.equal(await objectsOf(stuck), 0);
  });

  test('sweeps on its own every interval until closed or aborted', async () => {
    await clearClips();
    const keyspace = t.keyspace();
    const controller = new AbortController();
    const retention = startClipRetention({
      bus: t.bus(keyspace),
      db: database.db,
      store,
      holder: 'w1',
      everyMs: 50,
      signal: controller.signal,
    });
    const id = await clip('stored', -HOUR);
    await waitFor(async () => (await statusOf([id]))[0] === 'deleted', { message: 'the timed sweep' });
    controller.abort();
    await retention.close();
    const sweeps = retention.stats.sweeps;
    const later = await clip('stored', -HOUR);
    // Closed: a sweep asked now does nothing, and the lease is free for another worker.
    assert.equal(await retention.sweep(), 0);
    assert.equal(retention.stats.sweeps, sweeps);
    await using other = startClipRetention({
      bus: t.bus(keyspace),
      db: database.db,
      store,
      holder: 'w2',
      everyMs: 3_600_000,
    });
    assert.equal(await other.sweep(), 1);
    assert.deepEqual(await statusOf([later]), ['deleted']);
  });
});
