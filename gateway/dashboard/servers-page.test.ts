/**
 * The dashboard's servers page in Chromium, over a real Prometheus (scraping every second) of a
 * real node_exporter, the gateway's own /metrics and a hub node's (handling counter messages all
 * along), with one alert rule that always fires: the alert is listed on top, the host is shown with
 * its name, and every chart — the host's CPU, memory, disk and network, the processes' CPU and RSS,
 * the hub node's messages/s and p99, the mailbox backlog — is a uPlot canvas with data points, its
 * lines drawn in pixels; switching the range redraws them. A screenshot goes to the test artifacts.
 */
// Redis Cluster pass: once (what this tests is the dashboard in Chromium; its Redis use is incidental).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { createActorClient, nodeStatsToPrometheus, serveMetrics, startHubNode } from '../../actors/mod.ts';
import { counterActor } from '../../actors/testdata/actors.ts';
import { startNodeExporter, startPrometheus, waitFor } from '../../infra/mod.ts';
import { FAST_HUB, useRedis } from '../../infra/test-redis.ts';
import { createApiKey } from '../auth.ts';
import { openDatabase } from '../db/database.ts';
import { createGateway, serveGateway } from '../gateway.ts';
import { PANELS } from '../monitoring/panels.ts';
import { launchChromium, testArtifacts } from './testdata/chromium.ts';

const t = useRedis();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** What the test reads of a <canvas> in the page (the suite's types have no DOM). */
interface Canvas {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  };
}

/** An alert rule that fires at its first evaluation (JSON is YAML: Prometheus reads it). */
const ALWAYS_FIRING = JSON.stringify({
  groups: [
    {
      name: 'servers-page-test',
      rules: [
        {
          alert: 'DiskAlmostFull',
          expr: 'vector(97)',
          labels: { severity: 'critical', instance: 'db-1:9100' },
          annotations: { summary: 'disk / is 97 % full' },
        },
      ],
    },
  ],
});

describe('the dashboard’s servers page', { timeout: 90_000 }, () => {
  it('draws live charts of the host, the processes and the hub node, with the firing alert on top', async () => {
    const keyspace = t.keyspace();
    const exporter = await startNodeExporter();
    cleanup.push(() => exporter.stop());
    const node = await startHubNode({
      bus: t.bus(keyspace, t.connect('hub')),
      actors: [counterActor],
      ...FAST_HUB,
    });
    cleanup.push(() => node.stop());
    const nodeMetrics = await serveMetrics({
      what: 'hub node',
      collect: () => nodeStatsToPrometheus(node.stats()),
    });
    cleanup.push(() => nodeMetrics.close());
    // Messages all along, so the messages/s and p99 charts have something to draw.
    const client = createActorClient(t.bus(keyspace), counterActor);
    let seq = 0;
    const sending = setInterval(() => void client.send('c-1', 'add', { seq: ++seq }).catch(() => {}), 50);
    cleanup.push(async () => clearInterval(sending));

    const rulesDir = mkdtempSync(join(tmpdir(), 'dh-servers-rules-'));
    writeFileSync(join(rulesDir, 'test.yml'), ALWAYS_FIRING);
    const prometheus = await startPrometheus({ targets: [], rulesDir, scrapeInterval: '1s' });
    cleanup.push(() => prometheus.stop());
    const database = await openDatabase();
    cleanup.push(() => database.close());
    const gateway = await createGateway({
      database,
      bus: t.bus(keyspace, t.connect()),
      monitoring: { prometheusUrl: prometheus.url },
    });
    cleanup.push(() => gateway.stop());
    const { url, close } = await serveGateway(gateway);
    cleanup.push(close);
    await prometheus.setTargets([
      { name: 'node', targets: [exporter.target] },
      { name: 'devicehub-gateways', targets: [new URL(url).host] },
      { name: 'devicehub-nodes', targets: [new URL(nodeMetrics.url).host] },
    ]);
    await prometheus.untilTargetsUp({ jobs: ['node', 'devicehub-gateways', 'devicehub-nodes'] });
    const { key } = await createApiKey(database.db, { name: 'op-servers-page', scope: 'operator' });

    const browser = await launchChromium();
    cleanup.push(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const chart = (panel: string) => page.locator(`.chart[data-panel="${panel}"]`);
    try {
      await page.goto(`${url}/ui/#key=${key}`);
      await page.locator('#nav-servers').click();
      await waitFor(
        async () => (await page.locator('#server-alerts tr', { hasText: 'DiskAlmostFull' }).count()) === 1,
        {
          timeoutMs: 20_000,
          message: 'the firing alert listed on top',
        },
      );
      assert.match(
        (await page.locator('#server-alerts tr', { hasText: 'DiskAlmostFull' }).textContent()) ?? '',
        /DiskAlmostFull\s*critical\s*firing\s*db-1:9100\s*disk \/ is 97 % full/,
      );
      const host = page.locator(`.host[data-instance="${exporter.target}"]`);
      await waitFor(async () => (await host.count()) === 1, { message: 'the host shown' });
      assert.match((await host.locator('h2').textContent()) ?? '', new RegExp(`${hostname()}.*up`));
      for (const panel of PANELS)
        await waitFor(async () => Number(await chart(panel).getAttribute('data-points')) > 0, {
          timeoutMs: 30_000,
          message: `points in the ${panel} chart`,
        });
      for (const panel of PANELS) {
        assert.equal(await chart(panel).locator('canvas').count(), 1, `${panel}: a uPlot canvas`);
        assert.ok(Number(await chart(panel).getAttribute('data-series')) > 0, `${panel}: series`);
      }
      assert.match((await chart('messages').locator('.u-legend').textContent()) ?? '', new RegExp(node.id));
      // The lines are drawn: the canvas has pixels in the first series' colour (#0969da).
      for (const panel of ['cpu', 'messages']) {
        const drawn = await chart(panel)
          .locator('canvas')
          .evaluate((c: Canvas) => {
            const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
            let n = 0;
            for (let i = 0; i < data.length; i += 4)
              if (Math.abs(data[i]! - 9) < 40 && Math.abs(data[i + 1]! - 105) < 40 && data[i + 2]! > 180) n++;
            return n;
          });
        assert.ok(drawn > 10, `${panel}: ${drawn} pixels of its line or dots`);
      }
      const processes = await page.locator('#processes').textContent();
      assert.match(processes ?? '', /devicehub-gateways/);
      assert.match(processes ?? '', /devicehub-nodes/);

      // Another range: the charts load it and draw again.
      await page.locator('#servers-range a[data-range="15m"]').click();
      await waitFor(async () => (await page.locator('#servers-range b').textContent()) === '15m', {
        message: 'the range switched',
      });
      await waitFor(async () => Number(await chart('cpu').getAttribute('data-points')) > 0, {
        message: 'the CPU chart over 15 minutes',
      });
      await page.screenshot({ path: join(testArtifacts(), 'dashboard-servers.png'), fullPage: true });
      assert.deepEqual(errors, [], 'no errors in the page');
    } catch (error) {
      await page.screenshot({ path: join(testArtifacts(), 'dashboard-servers-failed.png'), fullPage: true });
      throw error;
    }
  });
});
