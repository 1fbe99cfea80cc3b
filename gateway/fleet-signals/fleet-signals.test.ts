/**
 * Fleet signals through a real gateway over a real Redis and a hub node's edge actors: edges go
 * online and offline, their events pass the outbox sink into the presence hash, a recount counts
 * them per building (label, else group, else none) with the never-seen ones apart, an edge the hash
 * lost is taken back from its actor's checkpoint, one no longer registered is dropped, and
 * /metrics shows the counts and the alarms by kind (garbage kinds as `other`).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { createActorClient } from '../../actors/mod.ts';
import { createEdgeActor } from '../../edge/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { type Database, openDatabase } from '../db/database.ts';
import { edges } from '../db/schema.ts';
import { FleetView } from '../fleet-view.ts';
import { createGateway } from '../gateway.ts';
import { readFleetCounts, recountFleet } from './mod.ts';

const t = useRedis();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** The value of one sample of a Prometheus text, or undefined when there is none. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('fleet signals', { timeout: 60_000 }, () => {
  it('counts edges online, offline and never seen per building, and alarms by kind, on /metrics', async () => {
    const keyspace = t.keyspace();
    // A short default silence: an edge whose birth names none goes offline after 400 ms.
    const node = await t.hub(keyspace, [createEdgeActor({ offlineAfterMs: 400 })]);
    const database: Database = await openDatabase();
    cleanup.push(
      () => node.stop(),
      () => database.close(),
    );
    await database.db.insert(edges).values([
      { id: 'F-1', labels: { building: 'B1' }, secretHash: 'x' },
      { id: 'F-2', labels: { building: 'B1' }, secretHash: 'x' },
      { id: 'F-3', groupId: 'G7', labels: { building: 'B1' }, secretHash: 'x' },
      { id: 'F-4', groupId: 'G7', labels: {}, secretHash: 'x' },
      { id: 'F-5', labels: {}, secretHash: 'x' },
    ]);
    const gateway = await createGateway({
      database,
      bus: t.bus(keyspace, t.connect()),
      fleetSignalsMs: 0,
    });
    cleanup.push(() => gateway.stop());
    const bus = t.bus(keyspace);
    const client = createActorClient(bus, createEdgeActor());
    // F-1, F-3, F-4 say they may be silent an hour; F-2 says nothing and goes offline; F-5 never speaks.
    for (const id of ['F-1', 'F-3', 'F-4'])
      await client.send(id, 'telemetry', { kind: 'birth', silenceSeconds: 3600, data: {} });
    await client.send('F-2', 'telemetry', { kind: 'birth', data: {} });
    await client.send('F-1', 'alarm', { alarm: 'smoke', phase: 'start' });
    await client.send('F-1', 'alarm', { alarm: 'smoke', phase: 'end' });
    await client.send('F-3', 'alarm', { alarm: 'smoke', phase: 'start' });
    await client.send('F-4', 'alarm', { alarm: 'ebike', phase: 'start' });
    await client.send('F-4', 'alarm', { alarm: 'bad kind!', phase: 'start' });
    const presence = () => bus.redis.hgetall(keyspace.presence);
    await waitFor(
      async () => (await presence())['F-2'] === '0' && Object.keys(await presence()).length === 4,
      {
        message: 'F-1, F-3, F-4 online and F-2 offline in the presence hash',
      },
    );
    assert.deepEqual(await presence(), { 'F-1': '1', 'F-2': '0', 'F-3': '1', 'F-4': '1' });

    // A cluster from before the hash: F-3's field is gone, its actor's checkpoint says online.
    // A field of an edge not registered (deregistered since) is dropped.
    await bus.redis.hdel(keyspace.presence, 'F-3');
    await bus.redis.hset(keyspace.presence, 'GONE-1', '1');
    const result = await gateway.fleetSignals.recount();
    assert.equal(result.bootstrapped, 1, 'F-3 taken from its checkpoint');
    assert.equal(result.removed, 1, 'GONE-1 dropped');
    assert.deepEqual(result.counts.buildings, {
      B1: { online: 2, offline: 1, never: 0 },
      G7: { online: 1, offline: 0, never: 0 },
      none: { online: 0, offline: 0, never: 1 },
    });
    assert.deepEqual(await readFleetCounts(bus), result.counts);
    assert.equal(await bus.redis.hget(keyspace.presence, 'F-3'), '1');
    assert.equal(await bus.redis.hexists(keyspace.presence, 'GONE-1'), 0);

    await waitFor(() => [...gateway.fleetSignals.alarms.values()].reduce((a, b) => a + b, 0) === 4, {
      message: 'four alarm starts through the sink',
    });
    const text = await (await gateway.app.request('/metrics')).text();
    const expected: [string, string, number][] = [
      ['devicehub_edges_online', 'building="B1"', 2],
      ['devicehub_edges_offline', 'building="B1"', 1],
      ['devicehub_edges_never_seen', 'building="B1"', 0],
      ['devicehub_edges_online', 'building="G7"', 1],
      ['devicehub_edges_offline', 'building="G7"', 0],
      ['devicehub_edges_never_seen', 'building="none"', 1],
      ['devicehub_alarms_total', 'kind="smoke"', 2],
      ['devicehub_alarms_total', 'kind="ebike"', 1],
      ['devicehub_alarms_total', 'kind="other"', 1],
    ];
    for (const [name, labels, value] of expected)
      assert.equal(sample(text, name, labels), value, `${name}{${labels}}`);
    const age = Number(/^devicehub_fleet_signals_age_seconds (\S+)$/m.exec(text)?.[1]);
    assert.ok(age >= 0 && age < 60, `the counts' age is ${age} s`);
  });

  it('counts by the fleet view’s buildings: the label, else the group, else none, as of its last reload', async () => {
    const database: Database = await openDatabase();
    cleanup.push(() => database.close());
    await database.db.insert(edges).values([
      { id: 'V-1', groupId: 'G1', labels: { building: 'B1' }, secretHash: 'x' },
      { id: 'V-2', groupId: 'G1', labels: { building: '' }, secretHash: 'x' },
      { id: 'V-3', labels: { city: 'Hangzhou' }, secretHash: 'x' },
      { id: 'V-4', labels: { building: 'B1' }, secretHash: 'x' },
    ]);
    const bus = t.bus(t.keyspace());
    const view = new FleetView({ db: database.db, bus });
    await view.reload();
    const buildings = view.edgeBuildings();
    assert.deepEqual(Object.fromEntries(buildings), { 'V-1': 'B1', 'V-2': 'G1', 'V-3': 'none', 'V-4': 'B1' });
    assert.equal(view.edgeBuildings(), buildings, 'made once per reload');
    const { counts } = await recountFleet(buildings, bus);
    assert.deepEqual(counts.buildings, {
      B1: { online: 0, offline: 0, never: 2 },
      G1: { online: 0, offline: 0, never: 1 },
      none: { online: 0, offline: 0, never: 1 },
    });
    // A label changed and an edge deregistered: seen after the next reload, not before.
    await database.db
      .update(edges)
      .set({ labels: { building: 'B9' } })
      .where(eq(edges.id, 'V-3'));
    await database.db.delete(edges).where(eq(edges.id, 'V-4'));
    assert.equal(view.edgeBuildings().get('V-3'), 'none');
    await view.reload();
    assert.deepEqual(Object.fromEntries(view.edgeBuildings()), { 'V-1': 'B1', 'V-2': 'G1', 'V-3': 'B9' });
  });
});
