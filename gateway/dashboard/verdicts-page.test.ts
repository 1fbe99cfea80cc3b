/**
 * The dashboard's second looks in Chromium: an edge whose e-bike alarm got a verdict (a hub node's
 * edge actor took the alarm start and the verdict) and whose frame is a real photograph (scikit-
 * image's motorcycle, as the JPEG an edge uploads) in the object store: its page shows the verdict
 * and the frame, and each of the model's boxes is drawn where the verdict says — its rectangle is
 * the box's fractions of the image's, to a pixel — with its label and score.
 */
// Redis Cluster pass: once (what this tests is the dashboard in Chromium; its Redis use is incidental).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import sharp from 'sharp';
import { createActorClient, startHubNode } from '../../actors/mod.ts';
import { createEdgeActor, DEFAULT_RECOGNITION_POLICY, type VisionVerdictPayload } from '../../edge/mod.ts';
import { testPhotos, visionAssetsMissing, waitFor } from '../../infra/mod.ts';
import { FAST_HUB, useRedis } from '../../infra/test-redis.ts';
import { FsObjectStore, frameKey } from '../../objects/mod.ts';
import { createApiKey } from '../auth.ts';
import { openDatabase } from '../db/database.ts';
import { edges } from '../db/schema.ts';
import { createGateway, serveGateway } from '../gateway.ts';
import { launchChromium, testArtifacts } from './testdata/chromium.ts';

const t = useRedis();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

type Rect = { x: number; y: number; width: number; height: number };
const skip = visionAssetsMissing();

describe('the dashboard’s second looks', { timeout: 90_000 }, () => {
  it('shows a verdict’s frame with its boxes where the verdict says', { skip }, async () => {
    const keyspace = t.keyspace();
    const database = await openDatabase();
    cleanup.push(() => database.close());
    const dir = await mkdtemp(join(tmpdir(), 'dh-verdicts-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const objects = await FsObjectStore.open(join(dir, 'objects'));
    cleanup.push(() => objects[Symbol.asyncDispose]());
    const gateway = await createGateway({ database, bus: t.bus(keyspace, t.connect()), objects });
    cleanup.push(() => gateway.stop());
    const { url, close } = await serveGateway(gateway);
    cleanup.push(close);
    const { key } = await createApiKey(database.db, { name: 'op-verdicts', scope: 'operator' });
    await database.db.insert(edges).values([{ id: 'E-ui', labels: {}, secretHash: 'x' }]);

    const edgeActor = createEdgeActor({ recognitionPolicy: () => DEFAULT_RECOGNITION_POLICY });
    const node = await startHubNode({
      bus: t.bus(keyspace, t.connect('hub')),
      actors: [edgeActor],
      ...FAST_HUB,
    });
    cleanup.push(() => node.stop());
    const client = createActorClient(t.bus(keyspace), edgeActor);

    // The frame as the edge uploads it: the photograph as a JPEG, in the object store at its key.
    const jpeg = await sharp(testPhotos().motorcycle).jpeg({ quality: 90 }).toBuffer();
    await objects.put(frameKey('E-ui', 'ev-ui-1', 0), new Blob([jpeg]).stream(), {
      contentType: 'image/jpeg',
    });
    const since = Date.now() - 60_000;
    await client.send('E-ui', 'alarm', {
      alarm: 'ebike',
      phase: 'start',
      ts: since,
      data: { floor: 4, eventId: 'ev-ui-1', frames: 1 },
    });
    const verdict: VisionVerdictPayload = {
      eventId: 'ev-ui-1',
      alarm: 'ebike',
      since,
      verdict: 'confirmed',
      model: { name: 'yolov8n-coco', version: '8.0.175+dynbatch' },
      detections: [
        { label: 'motorcycle', score: 0.87, box: [0.083, 0.126, 0.771, 0.745] },
        { label: 'person', score: 0.41, box: [0.62, 0.05, 0.25, 0.4] },
      ],
      frame: 0,
      queueMs: 35,
      inferMs: 112,
    };
    await client.send('E-ui', 'visionVerdict', verdict);
    await waitFor(
      async () => (await t.edgeState(keyspace, 'E-ui'))?.vision?.recent[0]?.status === 'confirmed',
      {
        message: 'the verdict in the edge actor’s state',
      },
    );

    const api = (path: string) => fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    const listed = (await (await api('/v1/edges/E-ui/verdicts')).json()) as {
      verdicts: { eventId: string }[];
    };
    assert.deepEqual(
      listed.verdicts.map((v) => v.eventId),
      ['ev-ui-1'],
    );
    assert.equal((await api('/v1/edges/E-none/verdicts')).status, 404);

    const browser = await launchChromium();
    cleanup.push(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`${url}/ui/#key=${key}`);
      await page.goto(`${url}/ui/#/edges/E-ui`);
      const card = page.locator('#verdicts .verdict[data-event="ev-ui-1"]');
      await waitFor(async () => (await card.count()) === 1, { message: 'the verdict on the edge page' });
      assert.match((await card.locator('h3').textContent()) ?? '', /ebike\s*confirmed.*alarm released/);
      assert.match((await card.textContent()) ?? '', /yolov8n-coco 8\.0\.175\+dynbatch/);
      const image = card.locator('img.verdict-image');
      await waitFor(
        async () => (await image.evaluate((i: { naturalWidth: number }) => i.naturalWidth)) === 741,
        {
          message: 'the frame loaded (741 px wide: the photograph)',
        },
      );
      const img = (await image.boundingBox()) as Rect;
      const boxes = card.locator('.box');
      assert.equal(await boxes.count(), 2);
      for (const d of verdict.detections!) {
        const box = card.locator(`.box[data-label="${d.label}"]`);
        const r = (await box.boundingBox()) as Rect;
        const [x, y, w, h] = d.box;
        const expected = {
          x: img.x + x * img.width,
          y: img.y + y * img.height,
          width: w * img.width,
          height: h * img.height,
        };
        for (const k of ['x', 'y', 'width', 'height'] as const)
          assert.ok(
            Math.abs(r[k] - expected[k]) <= 1,
            `${d.label} ${k}: drawn ${r[k].toFixed(1)}, the verdict says ${expected[k].toFixed(1)} (image ${JSON.stringify(img)})`,
          );
        assert.equal(await box.locator('.box-label').textContent(), `${d.label} ${d.score.toFixed(2)}`);
      }
      await page.screenshot({ path: join(testArtifacts(), 'dashboard-verdicts.png'), fullPage: true });
      assert.deepEqual(errors, [], 'no errors in the page');
    } catch (error) {
      await page.screenshot({ path: join(testArtifacts(), 'dashboard-verdicts-failed.png'), fullPage: true });
      throw error;
    }
  });
});
