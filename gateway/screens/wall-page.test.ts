/**
 * The wall screen page (`/ui/screen/<scope>`) in Chromium at 1920×1080: twelve simulated elevators
 * of one building (edge/sim's elevator day, sped up) send their statuses to their edge actors; the
 * page shows a tile per elevator, the counts, and an alarm opened three minutes ago as "3 min";
 * its tiles change as the cars move. A screenshot goes to the test artifacts.
 */
// Redis Cluster pass: once (what this tests is the page in a browser; the feeds' Redis use runs on the cluster in feeds.test.ts).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { createActorClient } from '../../actors/mod.ts';
import { edgeActor } from '../../edge/mod.ts';
import { birthOf, elevatorDay } from '../../edge/sim/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { launchChromium, testArtifacts } from '../dashboard/testdata/chromium.ts';
import { serveGateway } from '../gateway.ts';
import { startRolloutGateway } from '../rollouts/testdata/rollout-gateway.ts';

const t = useRedis();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const ELEVATORS = Array.from({ length: 12 }, (_, i) => `E-${String(i + 1).padStart(2, '0')}`);

describe('the wall screen page', { timeout: 90_000 }, () => {
  it('shows a building’s elevators, counts and open alarms, and follows the cars as they move', async () => {
    const { keyspace, gateway, key, request } = await startRolloutGateway(t, cleanup, {
      screens: { sweepMs: 100 },
    });
    const served = await serveGateway(gateway);
    cleanup.push(() => served.close());
    for (const id of ELEVATORS)
      assert.equal((await request('POST', '/v1/edges', { id, groupId: 'tower-a' })).status, 201);
    const edges = createActorClient(t.bus(keyspace), edgeActor);
    let seq = 0;
    for (const id of ELEVATORS)
      await edges.send(id, 'telemetry', { kind: 'birth', seq: ++seq, boot: 'b', data: { ...birthOf(id) } });
    // Busy cars (1,500 trips a day, from 08:00), one simulated second every 100 ms.
    const days = ELEVATORS.map((_, i) => elevatorDay(i + 1, 1500, 8 * 3600));
    let stopped = false;
    const simulate = (async () => {
      while (!stopped) {
        await Promise.all(
          ELEVATORS.map((id, i) => {
            const second = days[i]!.next().value!;
            return edges.send(id, 'telemetry', {
              kind: 'status',
              seq: ++seq,
              boot: 'b',
              ts: Date.now(),
              data: { ...second.status },
            });
          }),
        );
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    cleanup.push(async () => {
      stopped = true;
      await simulate;
    });
    // A passenger trapped in E-03 for three minutes.
    await edges.send('E-03', 'alarm', {
      alarm: 'trapped',
      phase: 'start',
      seq: ++seq,
      boot: 'b',
      ts: Date.now() - 3 * 60_000 - 5000,
      data: { floor: 7 },
    });

    const browser = await launchChromium();
    cleanup.push(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const shot = join(testArtifacts(), 'wall-screen-building.png');
    try {
      await page.goto(`${served.url}/ui/screen/building:B-0007#key=${key}`);
      await waitFor(async () => (await page.locator('.tile').count()) === ELEVATORS.length, {
        message: 'a tile per elevator',
        timeoutMs: 20_000,
      });
      const counts = async () =>
        Object.fromEntries(
          await Promise.all(
            ['running', 'idle', 'fault', 'offline'].map(
              async (s) => [s, Number(await page.locator(`#count-${s}`).textContent())] as const,
            ),
          ),
        );
      await waitFor(async () => (await counts()).fault === 1, { message: 'E-03 counted in fault' });
      const c = await counts();
      assert.equal(c.running! + c.idle! + c.fault! + c.offline!, ELEVATORS.length);
      assert.equal(c.offline, 0);
      const alarm = page.locator('#alarms li[data-edge="E-03"]');
      assert.equal(await alarm.getAttribute('data-minutes'), '3');
      assert.match((await alarm.textContent()) ?? '', /E-03 · trapped\s*3 min/);
      assert.equal(await page.locator('.tile[data-edge="E-03"]').getAttribute('data-state'), 'fault');

      // The cars move: tiles change under the page's eyes, version after version.
      const floors = async () =>
        page
          .locator('.tile')
          .evaluateAll((els) =>
            els.map((e) => (e as unknown as { dataset: Record<string, string> }).dataset.floor),
          );
      const before = await floors();
      const version = await page.locator('body').getAttribute('data-version');
      await waitFor(
        async () => {
          const now = await floors();
          return now.filter((f, i) => f !== before[i]).length >= 2;
        },
        { message: 'two cars moved on the screen', timeoutMs: 30_000 },
      );
      assert.notEqual(await page.locator('body').getAttribute('data-version'), version);
      assert.equal(await page.locator('#conn').textContent(), 'live');
      assert.deepEqual(errors, [], 'no errors in the page');
      await page.screenshot({ path: shot });
    } catch (error) {
      await page.screenshot({ path: shot.replace('.png', '-failed.png') });
      throw error;
    }
  });
});
