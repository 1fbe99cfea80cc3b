/**
 * The fleet view's periodic safety net (a lost change notice): a refresh that finds the tables
 * as they were reloads nothing — its first one included, which used to reload every edge (at
 * 50,000 edges a 250-300 ms stall of the gateway) — and one that finds an edge added behind its
 * back (no notice) takes it in.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { waitFor } from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { openDatabase } from './db/database.ts';
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
  });
});
