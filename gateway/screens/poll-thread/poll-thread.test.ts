/**
 * Snapshot polls on their own thread and port (decision 065), against a served gateway, a hub
 * node and Redis: the thread's answers are the app's (the same ETag and snapshot), it answers 304s
 * and 200s itself once it holds a caller's rule and the scope (counted in the model's shared
 * counters), a change reaches it after the model's tick, every refusal is the app's, a revoked key
 * is refused at once, and nothing but snapshot polls is served on its port.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { createActorClient } from '../../../actors/mod.ts';
import { edgeActor } from '../../../edge/mod.ts';
import { waitFor } from '../../../infra/mod.ts';
import { useRedis } from '../../../infra/test-redis.ts';
import { createApiKey } from '../../auth.ts';
import { serveGateway } from '../../gateway.ts';
import { startRolloutGateway } from '../../rollouts/testdata/rollout-gateway.ts';
import { basic } from '../../testdata/harness.ts';
import { COUNTER } from './mod.ts';

const t = useRedis();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

interface Snapshot {
  version: string;
  at: number;
  tiles: { edgeId: string; floor: number | null }[];
}

describe('the snapshot-poll thread', { timeout: 60_000 }, () => {
  it('answers polls from what the main thread told it, hands the rest to the app, and forgets revoked keys', async () => {
    const { keyspace, database, gateway, request } = await startRolloutGateway(t, cleanup, {
      screens: { tickMs: 100, sweepMs: 100 },
    });
    const served = await serveGateway(gateway, { screenPollPort: 0 });
    cleanup.push(() => served.close());
    assert.ok(served.screenPollUrl, 'the thread listens');
    assert.notEqual(served.screenPollUrl, served.url);
    const counters = gateway.screens!.threadPolls;
    const count = (c: keyof typeof COUNTER) => Number(counters[COUNTER[c]]);
    const operatorKey = await createApiKey(database.db, { name: 'operator', scope: 'operator' });
    const operator = `Bearer ${operatorKey.key}`;
    const service = `Bearer ${(await createApiKey(database.db, { name: 'backend', scope: 'service' })).key}`;
    const poll = (path: string, auth = operator, headers: Record<string, string> = {}) =>
      fetch(`${served.screenPollUrl}${path}`, { headers: { authorization: auth, ...headers } });
    const register = async (id: string, groupId: string) => {
      const res = await request('POST', '/v1/edges', { id, groupId });
      assert.equal(res.status, 201);
      return ((await res.json()) as { secret: string }).secret;
    };
    await register('E-1', 'G1');
    await register('E-2', 'G1');
    await register('E-3', 'G2');
    const screen = basic('SCR-1', await register('SCR-1', 'G1'));
    await waitFor(
      async () => ((await (await poll('/v1/screens/fleet')).json()) as Snapshot).tiles.length === 4,
      {
        message: 'the four registered edges on the fleet screen, through the thread',
      },
    );

    // The thread's answer is the app's: the same version, the same snapshot but for `at`. A late
    // event may move the version between requests: a pair counts when the app's agree around it.
    const inApp = () => gateway.app.request('/v1/screens/group:G1', { headers: { authorization: operator } });
    let etag = '';
    for (let attempt = 1; ; attempt++) {
      const before = await inApp();
      const threaded = await poll('/v1/screens/group:G1');
      const after = await inApp();
      if (before.headers.get('etag') !== after.headers.get('etag')) {
        assert.ok(attempt < 20, 'group:G1 never kept still for three requests');
        continue;
      }
      assert.equal(threaded.status, 200);
      assert.equal(threaded.headers.get('etag'), before.headers.get('etag'));
      assert.equal(threaded.headers.get('content-type'), 'application/json');
      const { at: _t, ...body } = (await threaded.json()) as Snapshot;
      const { at: _a, ...appBody } = (await before.json()) as Snapshot;
      assert.deepEqual(body, appBody);
      etag = before.headers.get('etag')!;
      break;
    }

    // Held now: a current ETag is a 304 the thread answers itself.
    const asked = count('asked');
    const notModified = count('notModified');
    let res = await poll('/v1/screens/group:G1', operator, { 'if-none-match': etag });
    if (res.status === 200) {
      etag = res.headers.get('etag')!; // the model moved on meanwhile: once more
      res = await poll('/v1/screens/group:G1', operator, { 'if-none-match': etag });
    }
    assert.equal(res.status, 304);
    assert.equal(res.headers.get('etag'), etag);
    assert.ok(count('notModified') > notModified, 'the thread answered the 304');
    assert.equal(count('asked'), asked, 'without asking the main thread');

    // A change: the tick sends the new version and its bytes, and the thread answers the 200.
    const edges = createActorClient(t.bus(keyspace), edgeActor);
    await edges.send('E-1', 'telemetry', {
      kind: 'status',
      seq: 1,
      boot: 'b',
      ts: Date.now(),
      data: { floor: 7, running: true },
    });
    const snapshots = count('snapshot');
    await waitFor(
      async () => {
        const r = await poll('/v1/screens/group:G1', operator, { 'if-none-match': etag });
        if (r.status === 304) return false;
        const body = (await r.json()) as Snapshot;
        return body.tiles.find((x) => x.edgeId === 'E-1')?.floor === 7;
      },
      { message: 'floor 7 on group:G1 through the thread' },
    );
    assert.ok(count('snapshot') > snapshots, 'the thread answered the 200 from the bytes it was sent');

    // Refusals are the app's, each with its reason.
    const refused = async (r: Response, status: number, message: RegExp) => {
      assert.equal(r.status, status);
      assert.match(((await r.json()) as { error: { message: string } }).error.message, message);
    };
    await refused(await poll('/v1/screens/group:nope'), 404, /No scope group:nope/);
    await refused(await poll('/v1/screens/galaxy'), 400, /scope/);
    await refused(await poll('/v1/screens/fleet', 'Bearer dhk_nope'), 401, /Unknown API key/);
    await refused(await poll('/v1/screens/fleet', service), 403, /needs scope operator/);
    await refused(await poll('/v1/screens/group:G2', screen), 403, /SCR-1 may show only group:G1/);
    assert.equal((await poll('/v1/screens/group:G1', screen)).status, 200, 'a screen sees its own group');
    // The screen's rule is for its scope only: another scope is still asked, and refused.
    await refused(await poll('/v1/screens/group:G2', screen), 403, /SCR-1 may show only group:G1/);
    await refused(await poll('/v1/screens/fleet/stream'), 404, /snapshot polls only/);
    await refused(await poll('/v1/edges'), 404, /snapshot polls only/);

    // A revoked key: the authenticator forgets it, and so does the thread, at once.
    assert.equal((await poll('/v1/screens/group:G1')).status, 200);
    assert.equal((await request('DELETE', `/v1/api-keys/${operatorKey.id}`)).status, 204);
    await refused(await poll('/v1/screens/group:G1'), 401, /revoked|Unknown/);
  });
});
