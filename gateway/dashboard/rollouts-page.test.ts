/**
 * The dashboard's rollouts in Chromium (launched as in dashboard.test.ts): a rollout created
 * through the API shows in the list; its page shows the waves with their progress (the canary
 * updated by agents, holding) and the health comparison; clicking pause pauses the actor and the
 * page shows it; the edge's page shows its installed version and update history.
 */
// Redis Cluster pass: once (what this tests is the dashboard in Chromium; its Redis use is incidental).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { FakeAgents } from '../../edge/rollout/testdata/fake-agents.ts';
import { waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { serveGateway } from '../gateway.ts';
import { startRolloutGateway } from '../rollouts/testdata/rollout-gateway.ts';
import { launchChromium, testArtifacts } from './testdata/chromium.ts';

const t = useRedis();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('the dashboard’s rollouts', { timeout: 90_000 }, () => {
  it('shows a rollout’s waves, pauses it with a click, and shows an edge’s installed versions', async () => {
    const { keyspace, gateway, key, request } = await startRolloutGateway(t, cleanup);
    const { url, close } = await serveGateway(gateway);
    cleanup.push(close);
    const call = (path: string, body: unknown) => request('POST', path, body);
    for (let i = 0; i < 6; i++)
      assert.equal(
        (await call('/v1/edges', { id: `U-${i}`, labels: { building: i < 2 ? 'B1' : 'B2' } })).status,
        201,
      );
    const agents = new FakeAgents(t.bus(keyspace), () => 'healthy');
    cleanup.push(() => agents[Symbol.asyncDispose]());
    const created = await call('/v1/rollouts', {
      id: 'r-ui',
      name: 'elenet 2.1.0',
      filter: 'label.building=B*',
      target: {
        packages: [
          {
            name: 'elenet',
            version: '2.1.0',
            kind: 'edge-package',
            sha256: 'ef'.repeat(32),
            length: 99,
            fileName: 'e.tar',
          },
        ],
      },
      // The canary is B1; its hold keeps the rollout there while the page is looked at.
      waves: [
        { name: 'canary B1', buildings: ['B1'], holdSeconds: 3600 },
        { name: 'the rest', percent: 100 },
      ],
    });
    assert.equal(created.status, 201, await created.clone().text());

    const browser = await launchChromium();
    cleanup.push(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const text = async (selector: string) => (await page.locator(selector).textContent())?.trim();
    try {
      await page.goto(`${url}/ui/#key=${key}`);
      await page.locator('#nav-rollouts').click();
      await waitFor(async () => (await page.locator('#rollouts tr').count()) === 2, {
        message: 'the rollout listed',
      });
      await page.locator('#rollouts a', { hasText: 'r-ui' }).click();
      await waitFor(async () => (await page.locator('#waves tr').count()) === 3, {
        message: 'two waves shown',
      });
      const canary = page.locator('#waves tr', { hasText: 'canary B1' });
      await waitFor(
        async () => {
          const cells = await canary.locator('td').allTextContents();
          return cells[1] === 'holding' && cells[3]?.startsWith('2 / 2') === true;
        },
        { timeoutMs: 30_000, message: 'the canary updated and holding' },
      );
      assert.equal(await canary.locator('.bar .ok').getAttribute('style'), 'width: 100%;');
      assert.deepEqual(
        (await page.locator('#waves tr', { hasText: 'the rest' }).locator('td').allTextContents()).slice(
          0,
          2,
        ),
        ['the rest', 'waiting'],
      );
      assert.equal(await text('#r-status'), 'running');
      assert.match((await text('#health')) ?? '', /updated.*not yet updated/s);
      assert.equal(await page.locator('#r-resume').isDisabled(), true);

      await page.locator('#r-pause').click();
      await waitFor(async () => (await text('#r-status')) === 'paused', {
        message: 'the page shows it paused',
      });
      assert.equal(await page.locator('#r-resume').isDisabled(), false);
      assert.equal(await page.locator('#r-pause').isDisabled(), true);
      await page.screenshot({ path: join(testArtifacts(), 'dashboard-rollout.png'), fullPage: true });

      await page.goto(`${url}/ui/#/edges/U-0`);
      await waitFor(async () => ((await text('#installed')) ?? '').includes('2.1.0'), {
        message: 'U-0’s installed elenet 2.1.0',
      });
      assert.match((await text('#installed')) ?? '', /elenet2\.1\.0r-ui/);
      assert.match((await text('#update-history')) ?? '', /r-uielenet 2\.1\.0healthy/);
      assert.deepEqual(errors, [], 'no errors in the page');
    } catch (error) {
      await page.screenshot({ path: join(testArtifacts(), 'dashboard-rollout-failed.png'), fullPage: true });
      throw error;
    }
  });
});
