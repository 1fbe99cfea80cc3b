/**
 * The fleet view's periodic safety net (a lost change notice): a refresh that finds the tables
 * as they were reloads nothing — its first one included, which used to reload every edge (at
 * 50,000 edges a 250-300 ms stall of the gateway), and an audited call that changed none of them —
 * and one that finds an edge added or moved behind its back (no notice) takes it in: the rows
 * changed since its last read, waking only the long-polls of edges whose row differs (on PGlite
 * and PostgreSQL), every row after a deletion. A notice reloads what it names: an edge's row,
 * the documents, the broker pool.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { eq } from 'drizzle-orm';
import { startPostgres, waitFor } from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { audit } from './audit.ts';
import { openDatabase } from './db/database.ts';
import { brokers, configDocuments, edges } from './db/schema.ts';
import { ALERT_RULES_CHANGED } from './fleet-notices.ts';
import { FleetView } from './fleet-view.ts';
import { registerEdges } from './register-edges.ts';

const t = useRedis();

describe('the fleet view', () => {
  it('reloads on a refresh only when the tables moved', async () => {
    const bus = t.bus(t.keyspace());
    await using database = await openDatabase();
    await registerEdges(database.db, bus, [{ id: 'E-1', secret: 'one-secret', groupId: 'G1' }]);
    await using view = await new FleetView({ db: database.db, bus, refreshMs: 50 }).start();
    const loaded = view.edgeGroups();
    assert.deepEqual([...loaded], [['E-1', 'G1']]);
    await delay(400); // several refreshes
    assert.equal(view.edgeGroups(), loaded, 'nothing moved: the same map, no reload');
    // Registered without a notice (registerEdges publishes none): the next refresh sees it.
    await registerEdges(database.db, bus, [{ id: 'E-2', secret: 'two-secret', groupId: 'G2' }]);
    await waitFor(() => view.groupOf('E-2') === 'G2', { timeoutMs: 5000, message: 'E-2 in the view' });
    const reloaded = view.edgeGroups();
    await delay(400);
    assert.equal(view.edgeGroups(), reloaded, 'and then no reload again');
    // An audited call about an edge (a command sent to it) changes nothing the view holds.
    await audit(database.db, { actor: 'test', action: 'edge.command', target: 'edge/E-1' });
    await delay(400);
    assert.equal(view.edgeGroups(), reloaded, 'the audit log is not what the refresh compares');
    // A group moved behind the view's back (no notice): its row's updated_at moved.
    await database.db.update(edges).set({ groupId: 'G3' }).where(eq(edges.id, 'E-2'));
    await waitFor(() => view.groupOf('E-2') === 'G3', { timeoutMs: 5000, message: 'E-2 moved in the view' });
    // A document written behind its back: the refresh reads the documents, not every edge again.
    const edgesRead = view.edgeGroups();
    await database.db
      .insert(configDocuments)
      .values({ kind: 'edge', scope: 'global', body: { fps: 7 }, version: 1, updatedBy: 'test' });
    await waitFor(() => view.resolve('edge', 'E-1')?.body.fps === 7, {
      timeoutMs: 5000,
      message: 'the document',
    });
    await delay(400);
    assert.equal(view.edgeGroups(), edgesRead, 'the edges were not read again');
  });

  for (const on of ['PGlite', 'PostgreSQL'] as const)
    it(`takes in the edges changed behind its back, and wakes only their long-polls (${on})`, async () => {
      await changedBehindItsBack(on);
    });
});

/** Edges changed in the registry without a notice, on either database (the timestamps' casts differ). */
async function changedBehindItsBack(on: 'PGlite' | 'PostgreSQL'): Promise<void> {
  const bus = t.bus(t.keyspace());
  await using pg = on === 'PostgreSQL' ? await startPostgres() : undefined;
  await using database = await openDatabase(
    pg === undefined ? {} : { url: await pg.createDatabase('fleet_view') },
  );
  const { db } = database;
  const ids = ['E-1', 'E-2', 'E-3'];
  await registerEdges(
    db,
    bus,
    ids.map((id) => ({ id, secret: `${id}-secret`, groupId: 'G1' })),
  );
  await using view = await new FleetView({ db, bus, refreshMs: 50 }).start();
  const stop = new AbortController();
  const woken: string[] = [];
  const waiting = ids.map((id) =>
    view.waitForChange(30_000, stop.signal, { kind: 'edge', id }).then(() => woken.push(id)),
  );
  await db.update(edges).set({ groupId: 'G2' }).where(eq(edges.id, 'E-2'));
  await waitFor(() => view.groupOf('E-2') === 'G2', { timeoutMs: 5000, message: 'E-2 moved in the view' });
  await waiting[1];
  // A write that leaves E-1's row as it was (its updated_at moves): read again, nothing changes.
  const groups = view.edgeGroups();
  const { mark } = view.edgeChanges();
  await db.update(edges).set({ groupId: 'G1' }).where(eq(edges.id, 'E-1'));
  await delay(300); // several refreshes
  assert.deepEqual(woken, ['E-2'], "the others' long-polls sleep on: their configurations did not change");
  assert.equal(view.edgeGroups(), groups, 'not reloaded whole');
  assert.deepEqual(
    view.edgeChanges(mark).ids,
    [],
    'rows read again as they were: no change (no screen sweep)',
  );
  // A deletion moves only the count: the refresh then reads every row.
  await db.delete(edges).where(eq(edges.id, 'E-3'));
  await waitFor(() => view.groupOf('E-3') === undefined, { timeoutMs: 5000, message: 'E-3 gone' });
  assert.equal(view.edgeChanges(mark).ids, undefined, 'reloaded whole: every edge');
  assert.deepEqual([...view.edgeGroups()].sort(), [
    ['E-1', 'G1'],
    ['E-2', 'G2'],
  ]);
  stop.abort();
  await Promise.all(waiting);
}

/** Edges E-1 and E-2 in group G1, and a view of them that does not refresh by itself. */
async function twoEdgesView() {
  const bus = t.bus(t.keyspace());
  const database = await openDatabase();
  await registerEdges(database.db, bus, [
    { id: 'E-1', secret: 'one-secret', groupId: 'G1' },
    { id: 'E-2', secret: 'two-secret', groupId: 'G1' },
  ]);
  const view = await new FleetView({ db: database.db, bus, refreshMs: 3_600_000 }).start();
  return {
    bus,
    db: database.db,
    view,
    async [Symbol.asyncDispose]() {
      await view.stop();
      await database.close();
    },
  };
}

describe('a change notice', () => {
  it("reloads what it names: an edge's row, the documents, the broker pool", async () => {
    await using s = await twoEdgesView();
    const { bus, db, view } = s;
    const before = view.edgeGroups();
    const { mark } = view.edgeChanges();
    const buildings = view.edgeBuildings();
    const etag = view.resolve('edge', 'E-1')?.etag;
    await db
      .insert(configDocuments)
      .values({ kind: 'edge', scope: 'group:G9', body: { fps: 9 }, version: 1, updatedBy: 'test' });
    // Behind the view's back, without a notice: a whole reload would take these in.
    await registerEdges(db, bus, [{ id: 'E-3', secret: 'three-secret', groupId: 'G1' }]);
    await db
      .update(edges)
      .set({ groupId: 'G9', labels: { building: 'B7' } })
      .where(eq(edges.id, 'E-1'));
    await db.delete(edges).where(eq(edges.id, 'E-2'));

    await Promise.all([view.changed('edge/E-1'), view.changed('edge/E-2')]);
    assert.equal(view.groupOf('E-1'), 'G9', 'moved');
    assert.equal(view.groupOf('E-2'), undefined, 'deregistered');
    assert.equal(
      view.groupOf('E-3'),
      undefined,
      'no notice, not reloaded: the view read two rows, not the table',
    );
    assert.equal(view.edgeGroups(), before, 'patched in place: 50,000 edges are not copied for two');
    assert.deepEqual(view.edgeChanges(mark).ids?.toSorted(), ['E-1', 'E-2'], 'what the screen model sweeps');
    assert.deepEqual([...view.edgeGroups()], [['E-1', 'G9']]);
    assert.equal(view.edgeBuildings(), buildings, 'the buildings patched in place too');
    assert.deepEqual([...view.edgeBuildings()], [['E-1', 'B7']]);
    assert.equal(view.resolve('edge', 'E-2'), undefined);
    // E-1's configuration is resolved afresh; its group's document is not in the view yet (a
    // document's change comes with its own notice).
    assert.notEqual(view.resolve('edge', 'E-1'), undefined);
    assert.equal(view.resolve('edge', 'E-1')?.body.fps, undefined);
    await view.changed('config/edge/group:G9');
    assert.equal(view.resolve('edge', 'E-1')?.body.fps, 9);
    assert.notEqual(view.resolve('edge', 'E-1')?.etag, etag);
    assert.equal(view.groupOf('E-3'), undefined, "a document's notice reloads the documents only");
    await db.insert(brokers).values({ id: 'm1', transport: 'mqtt', address: 'mqtt://m1:1883' });
    assert.equal(view.resolve('edge', 'E-1')?.body.broker, undefined);
    await view.changed('broker/m1');
    assert.deepEqual(view.resolve('edge', 'E-1')?.body.broker, { transport: 'mqtt', url: 'mqtt://m1:1883' });
    assert.equal(view.groupOf('E-3'), undefined, "a broker's notice reloads the pool only");
    await view.changed('api-key/k1');
    await view.changed(ALERT_RULES_CHANGED);
    assert.equal(view.groupOf('E-3'), undefined, 'what the view does not hold reloads nothing');
    await view.changed('something/else');
    assert.equal(view.groupOf('E-3'), 'G1', 'any other notice reloads the whole view: E-3 is in');
  });

  it('takes the notices that come during a reload together, in the next one', async () => {
    const bus = t.bus(t.keyspace());
    await using database = await openDatabase();
    const ids = Array.from({ length: 20 }, (_, i) => `E-${i}`);
    await registerEdges(
      database.db,
      bus,
      ids.map((id) => ({ id, secret: `${id}-secret`, groupId: 'G1' })),
    );
    let selects = 0;
    const db = new Proxy(database.db, {
      get: (target, key) =>
        key === 'select'
          ? (...args: Parameters<typeof target.select>) => {
              selects++;
              return target.select(...args);
            }
          : Reflect.get(target, key),
    });
    await using view = await new FleetView({ db, bus, refreshMs: 3_600_000 }).start();
    // Whole reloads (they publish nothing, so no notice comes back): the first one, then one for
    // the 19 asked for while it ran; each reads the three tables.
    selects = 0;
    await Promise.all(ids.map(() => view.reload()));
    assert.equal(selects, 6, 'two reloads of three tables, not twenty');
    // Edge notices: the first notice's row, then the 19 others' in one read (and a few more reads
    // for the notices coming back from Redis, in their own time): fewer than one read a notice.
    await database.db.update(edges).set({ groupId: 'G2' });
    selects = 0;
    await Promise.all(ids.map((id) => view.changed(`edge/${id}`)));
    assert.deepEqual(new Set(view.edgeGroups().values()), new Set(['G2']), 'every notice taken in');
    assert.ok(selects < ids.length, `${selects} reads for ${ids.length} notices`);
  });

  it("reloads one module's document only, and wakes only the long-polls about it", async () => {
    await using s = await twoEdgesView();
    const { db, view } = s;
    const stop = new AbortController();
    const woken: string[] = [];
    const waiting = ['E-1', 'E-2', undefined].map((id) =>
      view
        .waitForChange(30_000, stop.signal, id === undefined ? undefined : { kind: 'edge', id })
        .then(() => woken.push(id ?? 'any')),
    );
    assert.equal(view.waiting, 3);
    const doc = (scope: string, body: Record<string, unknown>) =>
      db.insert(configDocuments).values({ kind: 'edge', scope, body, version: 1, updatedBy: 'test' });
    await doc('module:E-1', { logLevel: 'debug' });
    await doc('group:G1', { fps: 5 }); // no notice: not read by a module's reload
    await view.changed('config/edge/module:E-1');
    await Promise.all([waiting[0], waiting[2]]);
    assert.deepEqual(woken.sort(), ['E-1', 'any'], "E-2's long-poll sleeps on");
    assert.equal(view.resolve('edge', 'E-1')?.body.logLevel, 'debug');
    assert.equal(view.resolve('edge', 'E-1')?.body.fps, undefined, 'the group document was not read');
    await view.changed('config/edge/group:G1');
    stop.abort();
    await Promise.all(waiting);
    assert.equal(view.resolve('edge', 'E-2')?.body.fps, 5, "a group's document: every document read");
    assert.equal(view.waiting, 0);
  });

  it('wakes the long-polls waiting on the view', async () => {
    await using s = await twoEdgesView();
    const { view } = s;
    const started = Date.now();
    const waiting = view.waitForChange(30_000);
    await view.changed('edge/E-1');
    await waiting;
    assert.ok(Date.now() - started < 10_000, 'woken by the notice, not by its 30 s timer');
  });
});
