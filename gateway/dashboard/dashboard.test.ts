/**
 * The dashboard's overview in Chromium (the browser the terminal test in
 * `edge/agent/tunnels.test.ts` drives, with its launch options): the modules load from the gateway
 * with their content types, the edges table shows every registered edge, and it follows the live
 * events (an edge comes online with an alarm) without the page being loaded again.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { createActorClient } from '../../actors/mod.ts';
import { edgeActor } from '../../edge/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { createApiKey } from '../auth.ts';
import { openDatabase } from '../db/database.ts';
import { createGateway, serveGateway } from '../gateway.ts';
import { launchChromium, testArtifacts } from './testdata/chromium.ts';

const t = useRedis();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const edgeCount = 12;

/** A hub node and a served gateway on a fresh keyspace, and an operator key. */
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
  const { key } = await createApiKey(database.db, { name: 'op', scope: 'operator' });
  return { keyspace, gateway, url, key };
}

describe('the dashboard', { timeout: 60_000 }, () => {
  it('shows every edge in the overview and follows the live events', async () => {
    const { keyspace, gateway, url, key } = await start();
    const ids = Array.from({ length: edgeCount }, (_, i) => `D-${String(i + 1).padStart(2, '0')}`);
    for (const id of ids) {
      const res = await gateway.app.request('/v1/edges', {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id, groupId: 'building-1' }),
      });
      assert.equal(res.status, 201, `${id} registered`);
    }

    // Served as modules with a cache policy, and kept out of the API's OpenAPI document.
    const main = await fetch(`${url}/ui/main.js`);
    assert.equal(main.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(main.headers.get('cache-control'), 'no-cache');
    const again = await fetch(`${url}/ui/main.js`, {
      headers: { 'if-none-match': main.headers.get('etag')! },
    });
    assert.equal(again.status, 304);
    const page0 = await (await fetch(`${url}/ui/`)).text();
    const preact = /"preact":"([^"]+)"/.exec(page0)?.[1];
    assert.match(
      preact ?? '',
      /^\/ui\/vendor\/preact@\d+\.\d+\.\d+\//,
      'the import map names a versioned preact',
    );
    assert.equal(
      (await fetch(`${url}${preact}`)).headers.get('cache-control'),
      'public, max-age=31536000, immutable',
    );
    const doc = (await (await fetch(`${url}/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
    assert.ok(doc.paths['/v1/edges']);
    assert.deepEqual(
      Object.keys(doc.paths).filter((p) => !p.startsWith('/v1/')),
      [],
    );

    const browser = await launchChromium();
    cleanup.push(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const scripts = new Map<string, string>();
    page.on('response', (r) => {
      if (r.request().resourceType() === 'script')
        scripts.set(new URL(r.url()).pathname, r.headers()['content-type']!);
    });
    try {
      await page.goto(`${url}/ui/#key=${key}`);
      const rows = page.locator('#edges tr');
      await waitFor(async () => (await rows.count()) === edgeCount + 1, {
        message: `a header and ${edgeCount} edges in the table`,
      });
      assert.equal(await page.locator('#t-edges').textContent(), String(edgeCount));
      assert.equal(await page.locator('#t-online').textContent(), '0');
      assert.equal(await page.locator('#open-alarms').textContent(), 'none');
      assert.deepEqual(await page.locator('#edges tr td:first-child').allTextContents(), ids);
      assert.ok(
        scripts.has('/ui/main.js') && scripts.has('/ui/views/fleet-table.js'),
        [...scripts.keys()].join(),
      );
      for (const [path, type] of scripts) assert.equal(type, 'text/javascript; charset=utf-8', path);
      await waitFor(async () => (await page.locator('#live').textContent()) === 'live: connected', {
        message: 'the live feed connected',
      });
      await page.evaluate(() => Object.assign(globalThis, { samePage: true }));

      // D-03 raises an alarm (and so comes online): the table, the tiles and the alarm list follow.
      await createActorClient(t.bus(keyspace), edgeActor).send('D-03', 'alarm', {
        alarm: 'smoke',
        phase: 'start',
      });
      const row = page.locator('#edges tr', { hasText: 'D-03' });
      const cells = () => row.locator('td').allTextContents();
      await waitFor(
        async () => {
          const [, state, , alarms] = await cells();
          return state === 'online' && alarms === 'smoke';
        },
        { message: 'D-03 online with its alarm in the table' },
      );
      assert.equal(await page.locator('#t-online').textContent(), '1');
      assert.equal(await page.locator('#t-alarms').textContent(), '1');
      assert.equal(await page.locator('#open-alarms').textContent(), 'D-03smoke');
      assert.equal(
        await page.evaluate(() => (globalThis as { samePage?: boolean }).samePage),
        true,
        'not reloaded',
      );

      // The configuration editor: load the global edge document (none yet), save it, see version 1.
      await page.locator('#c-load').click();
      await waitFor(async () => (await page.locator('#c-info').textContent()) === 'no document yet', {
        message: 'the editor to load',
      });
      await page.locator('#c-body').fill('{ "pollSeconds": 30 }');
      await page.locator('#c-save').click();
      await waitFor(async () => (await page.locator('#c-result').textContent()) === 'saved as version 1', {
        message: 'the save to answer',
      });
      await waitFor(
        async () => (await page.locator('#c-history').textContent())?.startsWith('v1  ') === true,
        {
          message: 'version 1 in the history',
        },
      );
      assert.deepEqual(errors, [], 'no errors in the page');
      await page.screenshot({ path: join(testArtifacts(), 'dashboard-overview.png'), fullPage: true });
    } catch (error) {
      await page.screenshot({ path: join(testArtifacts(), 'dashboard-overview-failed.png'), fullPage: true });
      throw error;
    }
  });
});
