/**
 * The demo's second look, end to end, as its test checks it: DEMO-VISION's first vision alarm (an
 * e-bike alarm whose frame, scikit-image's motorcycle photograph, it uploaded through the gateway's
 * frames route with its own credentials) is confirmed by the demo's recognition worker with the real
 * model — the verdict in the edge actor's state (GET /v1/edges/DEMO-VISION/verdicts), its frame
 * served back, and the worker's /metrics counting the image.
 */
import assert from 'node:assert/strict';
import { waitFor } from '../../infra/mod.ts';
import { httpsRequest } from './tls-requests.ts';

interface Verdicts {
  verdicts: {
    eventId: string;
    alarm: string;
    status: string;
    reason?: string;
    model?: { name: string; version: string };
    detections?: { label: string; score: number; box: number[] }[];
    frame?: number;
  }[];
}

export async function checkDemoVerdict(o: {
  url: string;
  adminKey: string;
  ca: Buffer;
  metricsUrl: string;
  said: () => string;
}): Promise<void> {
  const api = (path: string) =>
    httpsRequest(`${o.url}${path}`, { ca: o.ca, headers: { authorization: `Bearer ${o.adminKey}` } });
  let first: Verdicts['verdicts'][number] | undefined;
  await waitFor(
    async () => {
      const got = await api('/v1/edges/DEMO-VISION/verdicts');
      if (got.status !== 200) return false;
      // Newest first: the first event is the oldest.
      first = (JSON.parse(got.body) as Verdicts).verdicts.at(-1);
      return first !== undefined && first.status !== 'requested';
    },
    {
      timeoutMs: 90_000,
      message: `a verdict for DEMO-VISION's first vision alarm; the demo said:\n${o.said()}`,
    },
  );
  assert.ok(first);
  assert.equal(first.alarm, 'ebike');
  assert.equal(first.status, 'confirmed', `verdict ${first.status} (${first.reason ?? ''})`);
  assert.equal(first.model?.name, 'yolov8n-coco');
  const motorcycle = first.detections?.find((d) => d.label === 'motorcycle');
  assert.ok(motorcycle && motorcycle.score >= 0.5, `a motorcycle in ${JSON.stringify(first.detections)}`);
  // The frame it was judged on, as the dashboard fetches it.
  const frame = await api(`/v1/edges/DEMO-VISION/frames/${first.eventId}/${first.frame ?? 0}`);
  assert.equal(frame.status, 200);
  const metrics = await (await fetch(o.metricsUrl)).text();
  const images = Number(/^devicehub_recognize_images_total\{[^}]*\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
  assert.ok(images >= 1, `the worker ran ${images} image(s)`);
  assert.match(metrics, /^devicehub_recognize_verdicts_total\{[^}]*verdict="confirmed"[^}]*\} [1-9]/m);
}
