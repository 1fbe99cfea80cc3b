/**
 * Wall screens' API in-process over a real Redis and a hub node: the manifest (ETag, 304, a
 * long-poll woken by a configuration write, only the screen itself), its bundle chosen from the
 * edge actor's state, and a status report turned into the actor's messages.
 */
// Redis Cluster pass: once (what this tests is the screens' HTTP routes; its Redis use is incidental).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { openObjectStore } from '../../objects/mod.ts';
import { createApiKey } from '../auth.ts';
import { openDatabase } from '../db/database.ts';
import { createGateway } from '../gateway.ts';
import { basic, useGatewayHarness } from '../testdata/harness.ts';
import { assignedBundle, demoBundle, installedBundle, statusMessages } from './mod.ts';

const t = useRedis();
const { useDatabase, setupDisposable } = useGatewayHarness(t);

const SHA = 'a'.repeat(64);
/** A wall screen's status report: bundle wall 1.0.0, healthy. */
const report = {
  boot: 'b1',
  seq: 1,
  name: 'wall',
  version: '1.0.0',
  health: { pageAlive: true, dataFresh: true },
};
const target = {
  path: 'screen-bundle/wall/2.0.0/index.html',
  name: 'wall',
  version: '2.0.0',
  kind: 'screen-bundle',
  sha256: SHA,
  length: 10,
};

describe('wall screens: choosing the bundle', () => {
  it('takes a rollout’s screen-bundle target and ignores what a screen cannot run', () => {
    const assigned = {
      rollout: 'r1',
      wave: 0,
      attempt: 1,
      targets: [target],
      spreadMs: 500,
      healthDeadlineMs: 9000,
      delivery: 'pull',
    };
    assert.deepEqual(assignedBundle({ assigned }), {
      target: { path: target.path, name: 'wall', version: '2.0.0', sha256: SHA, length: 10 },
      rollout: 'r1',
      healthDeadlineMs: 9000,
      spreadMs: 500,
    });
    const agentPackage = { ...target, kind: 'edge-package', path: 'edge-package/elenet/2/elenet.tgz' };
    assert.equal(assignedBundle({ assigned: { ...assigned, targets: [agentPackage] } }), undefined);
    assert.equal(
      assignedBundle({ assigned: { ...assigned, targets: [{ ...target, sha256: 'nothex' }] } }),
      undefined,
    );
    assert.equal(assignedBundle({ assigned: { ...assigned, state: 'rolled_back' } }), undefined);
    assert.equal(assignedBundle(undefined), undefined);
    assert.deepEqual(
      installedBundle({
        installed: { wall: { version: '1.0.0', path: 'screen-bundle/wall/1.0.0/index.html' } },
      }),
      {
        name: 'wall',
        version: '1.0.0',
      },
    );
    assert.equal(installedBundle({ installed: { elenet: { version: '3' } } }), undefined);
  });

  it('turns a report into updateState (whole percent, downloading only) and a heartbeat', () => {
    const health = { pageAlive: true, dataFresh: false };
    const update = { rollout: 'r1', target: target.path, name: 'wall', version: '2.0.0' };
    const [state, beat] = statusMessages(
      'S-1',
      {
        boot: 'b',
        seq: 3,
        name: 'wall',
        version: '1.0.0',
        update: { ...update, state: 'downloading', progress: 41.6 },
        health,
      },
      7,
    );
    assert.deepEqual(state, {
      address: 'edge/S-1',
      method: 'updateState',
      payload: { ...update, state: 'downloading', progress: 42, ts: 7 },
    });
    assert.deepEqual(beat, {
      address: 'edge/S-1',
      method: 'telemetry',
      payload: {
        kind: 'heartbeat',
        boot: 'b',
        seq: 3,
        ts: 7,
        data: { screen: true, bundle: 'wall', version: '1.0.0', ...health },
      },
    });
    const [healthy] = statusMessages(
      'S-1',
      { boot: 'b', seq: 4, update: { ...update, state: 'healthy', progress: 100 }, health },
      8,
    );
    assert.equal((healthy!.payload as { progress?: number }).progress, undefined);
  });
});

describe('wall screens: the API', { timeout: 60_000 }, () => {
  useDatabase('pglite');

  it('answers the manifest with an ETag, 304, a long-poll woken by a configuration write, for the screen only', async () => {
    await using s = await setupDisposable();
    const register = async (id: string) => {
      const res = await s.call('POST', '/v1/edges', {
        key: s.keys.operator,
        body: { id, labels: { hardware: 'screen' } },
      });
      assert.equal(res.status, 201);
      return basic(id, ((await res.json()) as { secret: string }).secret);
    };
    const screen = await register('S-1');
    const other = await register('S-2');
    const first = await s.call('GET', '/v1/screens/S-1/manifest', { auth: screen });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await first.json(), {
      screen: 'S-1',
      bundle: null,
      rollout: null,
      healthDeadlineMs: 60_000,
      spreadMs: 0,
      config: {},
    });
    const etag = first.headers.get('etag')!;
    const again = await s.call('GET', '/v1/screens/S-1/manifest', {
      auth: screen,
      headers: { 'if-none-match': etag },
    });
    assert.equal(again.status, 304);

    const waiting = s.call('GET', '/v1/screens/S-1/manifest?wait=10', {
      auth: screen,
      headers: { 'if-none-match': etag },
    });
    const put = await s.call('PUT', '/v1/config/screen/module:S-1', {
      key: s.keys.operator,
      body: { title: 'Lobby' },
    });
    assert.equal(put.status, 200);
    const woken = await waiting;
    assert.equal(woken.status, 200);
    assert.deepEqual(((await woken.json()) as { config: unknown }).config, { title: 'Lobby' });
    assert.notEqual(woken.headers.get('etag'), etag);

    assert.equal((await s.call('GET', '/v1/screens/S-1/manifest', { auth: other })).status, 403);
    assert.equal((await s.call('GET', '/v1/screens/S-1/manifest', { key: s.keys.service })).status, 200);
    assert.equal((await s.call('GET', '/v1/screens/NOPE/manifest', { key: s.keys.service })).status, 404);
    assert.equal((await s.call('GET', '/v1/screens/S-1/manifest')).status, 401);
    assert.equal((await s.call('POST', '/v1/screens/S-1/status', { auth: other, body: report })).status, 403);
    assert.equal(
      (await s.call('POST', '/v1/screens/S-1/status', { key: s.keys.admin, body: report })).status,
      403,
    );
    const bad = await s.call('POST', '/v1/screens/S-1/status', {
      auth: screen,
      body: { ...report, health: {} },
    });
    assert.equal(bad.status, 400);

    // The loader page and its script, outside the OpenAPI document.
    const page = await s.call('GET', '/screens/S-1');
    assert.equal(page.status, 200);
    assert.match(await page.text(), /\/screens\/assets\/screen-client\.js/);
    const script = await s.call('GET', '/screens/assets/screen-client.js');
    const worker = await s.call('GET', '/screens/assets/sw.js');
    assert.equal(worker.headers.get('service-worker-allowed'), '/screens/');
    assert.equal(worker.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(script.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(
      (
        await s.call('GET', '/screens/assets/screen-client.js', {
          headers: { 'if-none-match': script.headers.get('etag')! },
        })
      ).status,
      304,
    );
  });

  it('puts a screen’s report into its edge actor: online, with its bundle and health in the shadow', async () => {
    await using s = await setupDisposable();
    const hub = await t.hub(s.keyspace);
    try {
      const res = await s.call('POST', '/v1/edges', {
        key: s.keys.operator,
        body: { id: 'S-3', labels: { hardware: 'screen' } },
      });
      const screen = basic('S-3', ((await res.json()) as { secret: string }).secret);
      const posted = await s.call('POST', '/v1/screens/S-3/status', { auth: screen, body: report });
      assert.equal(posted.status, 202);
      assert.deepEqual(await posted.json(), { accepted: 1 });
      const state = await waitFor(
        async () => {
          const st = await t.edgeState(s.keyspace, 'S-3');
          return st?.online && st.shadow.heartbeat?.version === '1.0.0' ? st : undefined;
        },
        { message: 'the screen online with its bundle in the shadow' },
      );
      assert.deepEqual(state.shadow.heartbeat, {
        screen: true,
        bundle: 'wall',
        version: '1.0.0',
        pageAlive: true,
        dataFresh: true,
      });
    } finally {
      await hub.stop();
    }
  });

  it('gives a new screen the configuration’s bundle, found in the artifacts catalog, with its mirrors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dh-screen-objects-'));
    const objects = await openObjectStore(pathToFileURL(dir).href);
    const database = await openDatabase();
    const keyspace = t.keyspace();
    await using gateway = await createGateway({ database, bus: t.bus(keyspace, t.connect()), objects });
    try {
      const { key } = await createApiKey(database.db, { name: 'admin', scope: 'admin' });
      const call = (method: string, path: string, body?: string | Uint8Array, auth = `Bearer ${key}`) =>
        gateway.app.request(path, {
          method,
          headers: {
            authorization: auth,
            'content-type': typeof body === 'string' ? 'application/json' : 'application/octet-stream',
          },
          ...(body === undefined ? {} : { body }),
        });
      const bytes = demoBundle('1.0.0');
      const query = 'kind=screen-bundle&name=wall&version=1.0.0&hardware=screen&fileName=index.html';
      assert.equal((await call('POST', `/v1/artifacts?${query}`, bytes)).status, 201);
      const res = await call(
        'POST',
        '/v1/edges',
        JSON.stringify({ id: 'S-4', labels: { hardware: 'screen' } }),
      );
      const screen = basic('S-4', ((await res.json()) as { secret: string }).secret);
      const before = await call('GET', '/v1/screens/S-4/manifest', undefined, screen);
      assert.equal(((await before.json()) as { bundle: unknown }).bundle, null);
      const pool = { cdn: { mirrors: [{ id: 'c1', url: 'https://cdn-1.example:8443', weight: 1 }] } };
      assert.equal((await call('PUT', '/v1/config/devicehub/global', JSON.stringify(pool))).status, 200);
      const config = { bundle: { name: 'wall', version: '1.0.0' } };
      assert.equal((await call('PUT', '/v1/config/screen/global', JSON.stringify(config))).status, 200);
      const after = await call('GET', '/v1/screens/S-4/manifest', undefined, screen);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      assert.deepEqual(((await after.json()) as { bundle: unknown }).bundle, {
        path: 'screen-bundle/wall/1.0.0/index.html',
        name: 'wall',
        version: '1.0.0',
        sha256,
        length: bytes.length,
        urls: [`https://cdn-1.example:8443/v1/artifacts/${sha256}/content`],
      });
    } finally {
      await database.close();
      await objects[Symbol.asyncDispose]();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
