/**
 * The dashboard's alarms in Chromium: an alarm whose clip is stored (a real MP4 from clips/media
 * and its poster in the object store, its row in `clips`) shows in the alarms view with its poster
 * and status; the edge page links there; the clip's page plays it — the `<video>` loads its
 * metadata through the signed link (readyState ≥ 1), its duration is the clip's, and it seeks
 * (Range: 206).
 */
// Redis Cluster pass: once (what this tests is the dashboard in Chromium; its Redis use is incidental).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import {
  seedAlarms,
  seedClipRow,
  seedStoredClip,
  startAlarmGateway,
} from '../alarms/testdata/alarm-gateway.ts';
import { openDatabase } from '../db/database.ts';
import { edges } from '../db/schema.ts';
import { serveGateway } from '../gateway.ts';
import { launchChromium, testArtifacts } from './testdata/chromium.ts';

/** What the test touches of an HTMLVideoElement (the compiler has no DOM types here). */
interface SeekableVideo {
  currentTime: number;
  addEventListener(type: 'seeked', listener: () => void, o: { once: boolean }): void;
}

const t = useRedis();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('the dashboard’s alarms', { timeout: 90_000 }, () => {
  it('lists an alarm with its clip’s poster and plays the clip', async () => {
    const database = await openDatabase();
    cleanup.push(() => database.close());
    const g = await startAlarmGateway(t, { database });
    cleanup.push(() => g.close());
    const { url, close } = await serveGateway(g.gateway);
    cleanup.push(close);
    await g.db.insert(edges).values([{ id: 'E-ui', labels: { building: 'B7' }, secretHash: 'x' }]);
    const since = Math.floor(Date.now() / 1000) * 1000 - 3600_000;
    await seedAlarms(g.db, [
      { eventId: 'g0-1-0', edgeId: 'E-ui', alarm: 'trapped', phase: 'start', at: since },
      { eventId: 'g0-2-0', edgeId: 'E-ui', alarm: 'trapped', phase: 'end', at: since + 8000, since },
      {
        eventId: 'g0-3-0',
        edgeId: 'E-ui',
        alarm: 'ebike',
        phase: 'end',
        at: since + 60_000,
        since: since + 50_000,
      },
    ]);
    const clip = await seedStoredClip(g, { edgeId: 'E-ui', alarm: 'trapped', since, seconds: 12 });
    await seedClipRow(g.db, {
      edgeId: 'E-ui',
      alarm: 'ebike',
      since: since + 50_000,
      status: 'failed',
      reason: 'camera ABC123456 offline until the deadline',
    });

    const browser = await launchChromium();
    cleanup.push(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const ranges: number[] = [];
    page.on('response', (r) => {
      if (r.url().includes(`/v1/clips/${clip.id}/video`)) ranges.push(r.status());
    });
    try {
      await page.goto(`${url}/ui/#key=${g.key}`);
      await page.goto(`${url}/ui/#/edges/E-ui`);
      await page.locator('#edge-alarms').click();
      await waitFor(async () => (await page.locator('#alarms tr').count()) === 4, {
        message: 'three alarms listed',
      });
      const trapped = page.locator('#alarms tr', { hasText: 'trapped' }).first();
      assert.match((await trapped.textContent()) ?? '', /E-uitrapped/);
      await waitFor(
        async () =>
          (await trapped
            .locator('img.poster')
            .evaluate((img: { naturalWidth: number }) => img.naturalWidth)) > 0,
        { message: 'the poster thumbnail loaded' },
      );
      assert.match(
        (await page.locator('#alarms tr', { hasText: 'ebike' }).textContent()) ?? '',
        /failed.*camera ABC123456 offline/,
      );
      await page.screenshot({ path: join(testArtifacts(), 'dashboard-alarms.png'), fullPage: true });
      // A filter that matches nothing, then the building.
      await page.locator('#f-kind').fill('door_open_moving');
      await page.locator('#alarm-filters button').click();
      await waitFor(async () => ((await page.locator('#alarms').textContent()) ?? '').includes('no alarms'), {
        message: 'the kind filter applied',
      });
      await page.goto(`${url}/ui/#/alarms?building=B7&kind=trapped`);
      await waitFor(async () => (await page.locator('#alarms tr').count()) === 3, {
        message: 'the trapped alarm of building B7',
      });

      await page.locator('#alarms tr', { hasText: 'end' }).locator('a.clip').click();
      await waitFor(async () => (await page.locator('#clip-status').textContent()) === 'stored', {
        message: 'the clip page',
      });
      const video = page.locator('#clip-video');
      assert.match((await video.getAttribute('poster')) ?? '', /\/poster\?exp=\d+&sig=/);
      await waitFor(async () => (await video.evaluate((v: { readyState: number }) => v.readyState)) >= 1, {
        timeoutMs: 20_000,
        message: 'the video’s metadata loaded',
      });
      const duration = await video.evaluate((v: { duration: number }) => v.duration);
      assert.ok(
        Math.abs(duration * 1000 - clip.durationMs) < 300,
        `duration ${duration} s, the clip is ${clip.durationMs} ms`,
      );
      await video.evaluate(
        (v: SeekableVideo) =>
          new Promise((resolve) => {
            v.addEventListener('seeked', () => resolve(v.currentTime), { once: true });
            v.currentTime = 9;
          }),
      );
      assert.ok(ranges.includes(206), `the video was read by range (statuses ${ranges.join(',')})`);
      await page.screenshot({ path: join(testArtifacts(), 'dashboard-clip.png'), fullPage: true });
      assert.deepEqual(errors, [], 'no errors in the page');
    } catch (error) {
      await page.screenshot({ path: join(testArtifacts(), 'dashboard-clip-failed.png'), fullPage: true });
      throw error;
    }
  });
});
