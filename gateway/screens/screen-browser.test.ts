/**
 * A wall screen in Chromium (the dashboard test's browser and launch options) moving between
 * bundles that its edge actor is assigned (`updateAssign`, delivery 'pull', as a rollout sends
 * it): the page downloads each through a real nginx cache (the screen's mirror from the `cdn`
 * pool) in front of an nginx origin, checks its SHA-256, runs it and reports healthy. A bundle
 * that never reports healthy is rolled back by the page's health gate; one whose bytes do not
 * match its hash (a corrupted origin) is refused; the running bundle survives a reload with the
 * gateway's screen API cut off. The edge actor's record (installed version, history) is checked.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { createActorClient } from '../../actors/mod.ts';
import { edgeActor } from '../../edge/mod.ts';
import type { UpdateTarget } from '../../edge/protocol/mod.ts';
import type { UpdateAssignPayload } from '../../edge/rollout/mod.ts';
import { startNginxCache, startNginxOrigin, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { createApiKey } from '../auth.ts';
import { openDatabase } from '../db/database.ts';
import { createGateway, serveGateway } from '../gateway.ts';
import { DEMO_BUNDLE_FILE, DEMO_BUNDLE_NAME, demoBundle } from './mod.ts';

const t = useRedis();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const chromiumArgs =
  '--no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync'.split(
    ' ',
  );
const SCREEN = 'SCR-1';

const artifacts = () => {
  const dir = process.env.DH_TEST_ARTIFACTS ?? join(process.cwd(), '.devicehub', 'test-artifacts');
  mkdirSync(dir, { recursive: true });
  return dir;
};

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const target = (version: string, bytes: Uint8Array): UpdateTarget => ({
  path: `screen-bundle/${DEMO_BUNDLE_NAME}/${version}/${DEMO_BUNDLE_FILE}`,
  name: DEMO_BUNDLE_NAME,
  version,
  kind: 'screen-bundle',
  sha256: sha256(bytes),
  length: bytes.length,
});

/** Redis, a hub node, a served gateway, an nginx origin and an nginx cache in front of it. */
async function start() {
  const keyspace = t.keyspace();
  const database = await openDatabase();
  cleanup.push(() => database.close());
  const hub = await t.hub(keyspace);
  cleanup.push(() => hub.stop());
  const gateway = await createGateway({ database, bus: t.bus(keyspace, t.connect()) });
  cleanup.push(() => gateway.stop());
  const { url, close } = await serveGateway(gateway);
  cleanup.push(close);
  const dir = mkdtempSync(join(tmpdir(), 'dh-screens-'));
  cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'origin-files');
  mkdirSync(root);
  const origin = await startNginxOrigin({ root, dir: join(dir, 'origin') });
  cleanup.push(() => origin.stop());
  const cache = await startNginxCache({ origin: origin.url, dir: join(dir, 'cache') });
  cleanup.push(() => cache.stop());
  const { key } = await createApiKey(database.db, { name: 'op', scope: 'operator' });
  const call = (method: string, path: string, body: unknown) =>
    gateway.app.request(path, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  return { keyspace, url, root, cache, call };
}

/** The loader's own view: the running bundle's version and its state line. */
const loaderVersion = (page: Page) => page.locator('html').getAttribute('data-bundle-version');
const loaderLine = async (page: Page) => (await page.locator('#loader').textContent()) ?? '';
const bundleVersion = (page: Page) => page.frameLocator('#bundle').locator('#version').textContent();

describe('a wall screen', { timeout: 120_000 }, () => {
  it('moves to the bundle it is assigned through the CDN, checked, and keeps it when the next one fails', async () => {
    const { keyspace, url, root, cache, call } = await start();
    const registered = await call('POST', '/v1/edges', { id: SCREEN, labels: { hardware: 'screen' } });
    assert.equal(registered.status, 201);
    const { secret } = (await registered.json()) as { secret: string };
    // The screen's mirror: the cdn pool's one cache (ranked for it by the gateway).
    const pool = { cdn: { mirrors: [{ id: 'cache-1', url: cache.url, weight: 1 }] } };
    assert.equal((await call('PUT', '/v1/config/devicehub/global', pool)).status, 200);
    assert.equal((await call('PUT', `/v1/config/screen/module:${SCREEN}`, { title: 'Lobby' })).status, 200);

    const bundles = {
      v1: demoBundle('1.0.0'),
      v2: demoBundle('2.0.0'),
      sick: demoBundle('2.1.0', { healthy: false }),
      corrupt: demoBundle('2.2.0'),
    };
    for (const bytes of Object.values(bundles)) writeFileSync(join(root, sha256(bytes)), bytes);
    // The origin holds other bytes under 2.2.0's hash (a corrupted store): what reaches the screen is wrong.
    writeFileSync(join(root, sha256(bundles.corrupt)), bundles.v1);

    const edges = createActorClient(t.bus(keyspace), edgeActor);
    const assign = (rollout: string, version: string, bytes: Uint8Array, healthDeadlineMs = 20_000) =>
      edges.send(SCREEN, 'updateAssign', {
        rollout,
        wave: 0,
        attempt: 1,
        targets: [target(version, bytes)],
        spreadMs: 0,
        healthDeadlineMs,
        delivery: 'pull',
      } satisfies UpdateAssignPayload);
    const updates = async () => (await t.edgeState(keyspace, SCREEN))?.updates;

    await assign('r-v1', '1.0.0', bundles.v1);
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs });
    cleanup.push(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`${url}/screens/${SCREEN}#secret=${secret}&wait=5&heartbeat=2`);
      assert.equal(new URL(page.url()).hash, '', 'the secret leaves the address bar');
      await waitFor(async () => (await bundleVersion(page)) === '1.0.0', {
        message: 'v1 running',
        timeoutMs: 20_000,
      });
      await waitFor(async () => (await updates())?.installed?.[DEMO_BUNDLE_NAME]?.version === '1.0.0', {
        message: 'v1 reported healthy to the edge actor',
      });

      // A rollout assigns 2.0.0: downloaded through the cache, checked, run, healthy.
      await assign('r-v2', '2.0.0', bundles.v2);
      await waitFor(async () => (await bundleVersion(page)) === '2.0.0', {
        message: 'v2 running',
        timeoutMs: 20_000,
      });
      const installed = await waitFor(
        async () => {
          const u = await updates();
          return u?.installed?.[DEMO_BUNDLE_NAME]?.version === '2.0.0' ? u : undefined;
        },
        { message: 'v2 installed in the edge actor' },
      );
      assert.deepEqual(
        installed.history?.filter((h) => h.rollout === 'r-v2').map((h) => h.state),
        ['downloading', 'downloaded', 'verified', 'installing', 'healthy'],
      );
      const v2Path = `/v1/artifacts/${sha256(bundles.v2)}/content`;
      assert.ok(
        cache.accessLog().some((e) => e.uri === v2Path && e.status === 200),
        'v2 came through the nginx cache',
      );
      assert.equal(await page.frameLocator('#bundle').locator('#title').textContent(), 'Lobby');
      await page.screenshot({ path: join(artifacts(), 'wall-screen-v2.png') });

      // 2.1.0 never reports healthy: the page goes back to 2.0.0 at the deadline and says so.
      await assign('r-sick', '2.1.0', bundles.sick, 3000);
      await waitFor(async () => (await updates())?.assigned?.state === 'rolled_back', {
        message: 'the sick bundle rolled back',
        timeoutMs: 20_000,
      });
      assert.equal(await bundleVersion(page), '2.0.0');
      assert.match((await updates())?.assigned?.reason ?? '', /^HEALTH_TIMEOUT/);

      // 2.2.0's bytes do not match its hash: refused, 2.0.0 keeps running.
      await assign('r-corrupt', '2.2.0', bundles.corrupt);
      await waitFor(async () => (await updates())?.assigned?.state === 'failed', {
        message: 'the corrupt bundle refused',
        timeoutMs: 20_000,
      });
      assert.match((await updates())?.assigned?.reason ?? '', /^HASH_MISMATCH/);
      assert.equal(await bundleVersion(page), '2.0.0');
      assert.equal(await loaderVersion(page), '2.0.0');
      assert.match(await loaderLine(page), /refused 2\.2\.0: HASH_MISMATCH/);

      // A reload with the gateway's screen API cut off: the stored 2.0.0 runs again.
      await page.route('**/v1/screens/**', (route) => route.abort());
      await page.reload();
      await waitFor(async () => (await bundleVersion(page)) === '2.0.0', {
        message: 'v2 after a reload without the gateway',
      });
      assert.equal(
        await page.frameLocator('#bundle').locator('#title').textContent(),
        'Lobby',
        'its configuration kept',
      );
      // The screen's own heartbeat: its bundle and health in the shadow.
      const state = await t.edgeState(keyspace, SCREEN);
      assert.equal(state?.online, true);
      assert.equal(state?.shadow.heartbeat?.version, '2.0.0');
      assert.deepEqual(errors, [], 'no errors in the page');
      await page.screenshot({ path: join(artifacts(), 'wall-screen-after.png') });
    } catch (error) {
      await page.screenshot({ path: join(artifacts(), 'wall-screen-failed.png') });
      throw error;
    }
  });
});
