/**
 * The wall-screen feeds over HTTP, against a served gateway, a hub node and Redis: elevators'
 * statuses sent to their edge actors reach the snapshot (ETag, 304), the SSE stream (snapshot,
 * then a delta carrying the tile's entry time; Last-Event-ID; the subscription released when the
 * client goes) and the WebSocket; the refusals (400, 401, 403 for a service key and for a screen
 * outside its scope, 404); and a second gateway started later rebuilds the same model from Redis.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import WebSocket from 'ws';
import { createActorClient, readActorState } from '../../actors/mod.ts';
import { type EdgeState, edgeActor } from '../../edge/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { createApiKey } from '../auth.ts';
import { createGateway, serveGateway } from '../gateway.ts';
import { startRolloutGateway } from '../rollouts/testdata/rollout-gateway.ts';
import { basic } from '../testdata/harness.ts';
import type { Tile } from './mod.ts';

const t = useRedis();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

interface Snapshot {
  version: string;
  at: number;
  counts: Record<string, number>;
  alarms: { edgeId: string; kind: string; openedAt: number }[];
  tiles: Tile[];
}
interface Frame {
  event: string;
  id: string;
  data: Snapshot & { removed?: string[] };
}

/** Reads SSE frames from a response body, one at a time. */
function frames(res: Response) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return async (): Promise<Frame> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = Object.fromEntries(
          block
            .split('\n')
            .filter((l) => !l.startsWith(':'))
            .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
        );
        if (fields.data !== undefined)
          return { event: fields.event ?? '', id: fields.id ?? '', data: JSON.parse(fields.data) };
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('the stream ended');
      buffer += decoder.decode(value, { stream: true });
    }
  };
}

describe('wall-screen feeds', { timeout: 60_000 }, () => {
  it('serves snapshots, SSE and WebSocket deltas from the read model, refuses what it must, and rebuilds', async () => {
    const settings = { tickMs: 100, sweepMs: 100 };
    const { keyspace, database, gateway, request } = await startRolloutGateway(t, cleanup, {
      screens: settings,
    });
    const served = await serveGateway(gateway);
    cleanup.push(() => served.close());
    const { url } = served;
    const operator = (await createApiKey(database.db, { name: 'operator', scope: 'operator' })).key;
    const service = (await createApiKey(database.db, { name: 'backend', scope: 'service' })).key;
    const get = (path: string, auth = `Bearer ${operator}`, headers: Record<string, string> = {}) =>
      fetch(`${url}${path}`, { headers: { authorization: auth, ...headers } });
    /**
     * Polls `path` with `etag` until it answers 304. A late event may still move the scope's
     * version between two requests (an edge's online event comes through the outbox, its tiles
     * through the live stream): a 200 then, with a new ETag, polled again; never a 304 in 20 fails.
     */
    const until304 = async (path: string, etag: string, auth?: string) => {
      for (let attempt = 1; ; attempt++) {
        const res = await get(path, auth, { 'if-none-match': etag });
        if (res.status === 304) return;
        assert.equal(res.status, 200);
        assert.notEqual(res.headers.get('etag'), etag, 'a full answer only when the model moved on');
        assert.ok(attempt < 20, `never a 304 for the current ETag of ${path}`);
        etag = res.headers.get('etag')!;
        await res.arrayBuffer();
      }
    };
    const register = async (id: string, groupId: string) => {
      const res = await request('POST', '/v1/edges', { id, groupId });
      assert.equal(res.status, 201);
      return ((await res.json()) as { secret: string }).secret;
    };
    await register('E-1', 'G1');
    await register('E-2', 'G1');
    await register('E-3', 'G2');
    const screenSecret = await register('SCR-1', 'G1');
    const snapshot = async (scope: string) => (await (await get(`/v1/screens/${scope}`)).json()) as Snapshot;
    // The model takes registrations from the fleet view (looked at every 100 ms here): events of an
    // edge it does not have yet change nothing, so the statuses go once it has all four.
    await waitFor(async () => (await snapshot('fleet')).tiles.length === 4, {
      message: 'the four registered edges on the fleet screen',
    });
    const edges = createActorClient(t.bus(keyspace), edgeActor);
    let seq = 0;
    const status = (id: string, data: Record<string, unknown>) =>
      edges.send(id, 'telemetry', { kind: 'status', seq: ++seq, boot: 'b', ts: Date.now(), data });
    await edges.send('E-1', 'telemetry', {
      kind: 'birth',
      seq: ++seq,
      boot: 'b',
      data: { buildingId: 'B-7' },
    });
    await status('E-1', {
      floor: 1,
      direction: 'idle',
      door: 'open',
      running: false,
      hasPerson: true,
      faultCode: 0,
    });
    await status('E-2', {
      floor: 5,
      direction: 'up',
      door: 'closed',
      running: true,
      hasPerson: false,
      faultCode: 0,
    });

    await waitFor(
      async () => {
        const { counts } = await snapshot('fleet');
        return counts.running === 1 && counts.idle === 1;
      },
      { message: 'two elevators on the fleet screen' },
    );
    const first = await get('/v1/screens/fleet');
    const etag = first.headers.get('etag')!;
    const body = (await first.json()) as Snapshot;
    assert.deepEqual(body.counts, { running: 1, idle: 1, fault: 0, offline: 2 });
    const e1 = body.tiles.find((x) => x.edgeId === 'E-1')!;
    assert.equal(e1.floor, 1);
    assert.equal(e1.door, 'open');
    assert.equal(e1.people, true);
    assert.equal(typeof e1.enteredAt, 'number');
    await until304('/v1/screens/fleet', etag);
    assert.deepEqual(
      (await snapshot('building:B-7')).tiles.map((x) => x.edgeId),
      ['E-1'],
    );
    assert.deepEqual((await snapshot('group:G1')).tiles.map((x) => x.edgeId).sort(), ['E-1', 'E-2', 'SCR-1']);

    // Refusals, each with its reason.
    const refused = async (res: Response, status: number, message: RegExp) => {
      assert.equal(res.status, status);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, message);
    };
    await refused(await get('/v1/screens/group:nope'), 404, /No scope group:nope/);
    await refused(await get('/v1/screens/building:Atlantis/stream'), 404, /No scope building:Atlantis/);
    await refused(await get('/v1/screens/galaxy'), 400, /scope/);
    await refused(await get('/v1/screens/fleet', 'Bearer dhk_nope'), 401, /Unknown API key/);
    await refused(await get('/v1/screens/fleet', `Bearer ${service}`), 403, /needs scope operator/);
    const screen = basic('SCR-1', screenSecret);
    await refused(await get('/v1/screens/group:G2', screen), 403, /SCR-1 may show only group:G1/);
    assert.equal((await get('/v1/screens/group:G1', screen)).status, 200, 'a screen sees its own group');
    // Once credentials are cached, snapshot polls are answered before the app
    // (snapshot-first.ts): the app's own snapshot and ETag, an encoded scope too; the app's
    // refusals stay the app's.
    // The model may still take a late event between two requests (the fleet view is looked at
    // every 100 ms), so a pair counts only when the app's answers before and after it agree.
    const inAppNow = () =>
      gateway.app.request('/v1/screens/group:G1', { headers: { authorization: `Bearer ${operator}` } });
    let g1 = '';
    for (const path of ['/v1/screens/group:G1', '/v1/screens/group%3AG1']) {
      for (let attempt = 1; ; attempt++) {
        const before = await inAppNow();
        const served = await get(path);
        const after = await inAppNow();
        if (before.headers.get('etag') !== after.headers.get('etag')) {
          assert.ok(attempt < 20, 'the group:G1 model never kept still for three requests');
          continue;
        }
        assert.equal(served.status, 200);
        assert.equal(served.headers.get('etag'), before.headers.get('etag'));
        assert.equal(served.headers.get('content-type'), 'application/json');
        // A small scope's snapshot is made per request: the same but for when (`at`).
        const { at: _served, ...body } = (await served.json()) as Snapshot;
        const { at: _app, ...appBody } = (await before.json()) as Snapshot;
        assert.deepEqual(body, appBody);
        g1 = before.headers.get('etag')!;
        break;
      }
    }
    await until304('/v1/screens/group:G1', g1, screen);
    await refused(await get('/v1/screens/group:G2', screen), 403, /SCR-1 may show only group:G1/);
    await refused(await get('/v1/screens/fleet', `Bearer ${service}`), 403, /needs scope operator/);
    await refused(await get('/v1/screens/group:nope'), 404, /No scope group:nope/);

    // SSE: the snapshot, then a delta with the changed tile and when its change entered the hub.
    const abort = new AbortController();
    const stream = await fetch(`${url}/v1/screens/group:G1/stream`, {
      headers: { authorization: `Bearer ${operator}` },
      signal: abort.signal,
    });
    assert.equal(stream.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const next = frames(stream);
    const opening = await next();
    assert.equal(opening.event, 'snapshot');
    assert.equal(opening.data.tiles.length, 3);
    // In process (app.request, no node response to write to): the same snapshot frame alone.
    const inProcess = await gateway.app.request('/v1/screens/group:G1/stream', {
      headers: { authorization: `Bearer ${operator}` },
    });
    assert.equal(inProcess.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const alone = /^id: (\S+)\nevent: snapshot\ndata: (.*)\n\n$/.exec(await inProcess.text());
    assert.ok(alone, 'one snapshot event');
    assert.equal((JSON.parse(alone[2]!) as Snapshot).version, alone[1]);
    assert.equal((JSON.parse(alone[2]!) as Snapshot).tiles.length, 3);
    // The WebSocket, as the dashboard's page opens it.
    const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/screens/group:G1/socket`, [
      'devicehub.v1',
      `bearer.${operator}`,
    ]);
    const wsFrames: Frame[] = [];
    ws.on('message', (m) => wsFrames.push(JSON.parse(String(m)) as Frame));
    await waitFor(() => wsFrames[0]?.event === 'snapshot', { message: 'the socket’s snapshot' });
    const sent = Date.now();
    await status('E-2', { floor: 6 });
    let delta = await next();
    while (!delta.data.tiles.some((x) => x.edgeId === 'E-2' && x.floor === 6)) delta = await next();
    assert.equal(delta.event, 'delta');
    const moved = delta.data.tiles.find((x) => x.edgeId === 'E-2')!;
    assert.ok(moved.enteredAt! >= sent - 1000 && moved.enteredAt! <= Date.now(), 'the entry time travels');
    assert.equal(moved.direction, 'up', 'fields not sent are kept');
    await waitFor(
      () => wsFrames.some((f) => f.event === 'delta' && f.data.tiles.some((x) => x.floor === 6)),
      {
        message: 'the same delta on the socket',
      },
    );
    assert.equal(gateway.screens!.subscribers, 2);
    abort.abort();
    ws.close();
    await waitFor(() => gateway.screens!.subscribers === 0, { message: 'both subscriptions released' });

    // Reconnecting with the current version as Last-Event-ID: no snapshot again, deltas go on.
    const current = (await get('/v1/screens/group:G1')).headers.get('etag')!.replaceAll('"', '');
    const again = new AbortController();
    const resumed = await fetch(`${url}/v1/screens/group:G1/stream`, {
      headers: { authorization: `Bearer ${operator}`, 'last-event-id': current },
      signal: again.signal,
    });
    const nextAgain = frames(resumed);
    await status('E-1', { floor: 2, door: 'closed', running: true, direction: 'up' });
    const afterResume = await nextAgain();
    assert.equal(afterResume.event, 'delta', 'no snapshot for a client that has this version');
    again.abort();

    // Upgrades refused with their status.
    const upgrade = (scope: string, key: string) =>
      new Promise<number>((resolve) => {
        const s = new WebSocket(`${url.replace('http', 'ws')}/v1/screens/${scope}/socket`, [
          'devicehub.v1',
          `bearer.${key}`,
        ]);
        s.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        s.on('open', () => {
          s.close();
          resolve(101);
        });
      });
    assert.equal(await upgrade('group:nope', operator), 404);
    assert.equal(await upgrade('fleet', service), 403);

    // A gateway started now rebuilds the same tiles from the actors' states in Redis.
    await waitFor(async () => (await snapshot('fleet')).tiles.find((x) => x.edgeId === 'E-1')?.floor === 2, {
      message: 'E-1 at floor 2',
    });
    // Tile events are published, not checkpointed with the state (ctx.publish): the rebuild reads
    // what the hub node has checkpointed (every 100 ms here), so it starts once that has E-1's floor.
    await waitFor(
      async () =>
        (await readActorState<EdgeState>(t.bus(keyspace), 'edge/E-1'))?.state.shadow.status?.floor === 2,
      { message: "E-1's floor 2 checkpointed" },
    );
    const second = await createGateway({ database, bus: t.bus(keyspace, t.connect()), screens: settings });
    cleanup.push(() => second.stop());
    const rebuilt = JSON.parse(second.screens!.scope('fleet')!.snapshot().json) as Snapshot;
    const strip = (s: Snapshot) =>
      s.tiles.map(({ enteredAt: _e, ...rest }) => rest).sort((a, b) => a.edgeId.localeCompare(b.edgeId));
    assert.deepEqual(strip(rebuilt), strip(await snapshot('fleet')));
    assert.deepEqual(rebuilt.counts, (await snapshot('fleet')).counts);
  });
});
