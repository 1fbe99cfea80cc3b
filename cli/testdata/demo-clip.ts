/**
 * The demo's alarm-clip path, end to end, as its test drives it: an edge registered through the
 * API sends its birth naming its camera, then a trapped alarm, over MQTT (TLS, its password), that
 * started and ended minutes ago by its clock; the demo's clip worker has the Ezviz stand-in
 * save the default policy's window, checks the video and stores it; the API shows the clip
 * stored, and its signed link serves a real MP4 of the window's length, in ranges.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { probeVideo } from '../../clips/media/mod.ts';
import { clipIdOf, DEFAULT_CLIP_POLICY, encodeCompact, uplinkTopic } from '../../edge/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { httpsRequest } from './tls-requests.ts';

/** A GET whose body comes back as bytes, with its headers. */
function httpsBytes(
  url: string,
  o: { ca: Buffer; headers?: Record<string, string> },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: o.ca, headers: o.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

interface Clip {
  status: string;
  reason: string | null;
  durationMs: number | null;
  window: { start: number; end: number };
  camera: { serial: string; channel: number } | null;
  links: { video: string; poster: string } | null;
}

export async function checkDemoClip(o: {
  url: string;
  adminKey: string;
  ca: Buffer;
  mqttTlsUrl: string;
  /** What the demo said, for a failure's message. */
  said: () => string;
}): Promise<{ edgeId: string; clipId: string; durationMs: number }> {
  const { url, ca } = o;
  const api = (path: string, init: { method?: string; body?: unknown } = {}) =>
    httpsRequest(`${url}${path}`, {
      ca,
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${o.adminKey}`, 'content-type': 'application/json' },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  // The simulated edges' births name their cameras, as a DeviceHub agent's does.
  const simulated = await api('/v1/edges/E-000001');
  assert.equal(simulated.status, 200, simulated.body);
  const birth = (JSON.parse(simulated.body) as { birth: { camera?: { serial: string } } | null }).birth;
  assert.match(birth?.camera?.serial ?? '', /^[A-Z0-9]{9}$/, `E-000001's birth: ${JSON.stringify(birth)}`);
  const edgeId = 'CLIP-DEMO-1';
  const registered = await api('/v1/edges', { method: 'POST', body: { id: edgeId } });
  assert.equal(registered.status, 201, registered.body);
  const { secret } = JSON.parse(registered.body) as { secret: string };
  const camera = { serial: 'CLIPDEMO1', channel: 1 };

  // A trapped alarm of 30 s that ended two minutes ago (the edge's clock): its window, with the
  // default policy's pre- and post-roll, is over, so the stand-in has the recording at once.
  const since = Date.now() - 150_000;
  const end = since + 30_000;
  const edge = await mqtt.connectAsync(o.mqttTlsUrl, {
    ca,
    rejectUnauthorized: true,
    username: edgeId,
    password: secret,
    clientId: edgeId,
    protocolVersion: 5,
    reconnectPeriod: 0,
  });
  // Its birth names its camera; then the alarm's start and end.
  const birthOfEdge = {
    model: 'RV1126-ELEV',
    firmware: '3.2.14',
    registrationCode: '3110000000000099',
    buildingId: 'B-0099',
    elevatorNo: 'A1',
    camera,
  };
  await edge.publishAsync(
    uplinkTopic(edgeId, 'birth'),
    Buffer.from(
      encodeCompact({ kind: 'birth', seq: 1, ts: Date.now(), boot: 'demo-test', birth: birthOfEdge }),
    ),
    { qos: 1 },
  );
  for (const [seq, phase, ts] of [
    [2, 'start', since],
    [3, 'end', end],
  ] as const) {
    const message = encodeCompact({ kind: 'alarm', seq, ts, alarm: 'trapped', phase, floor: 3 });
    await edge.publishAsync(uplinkTopic(edgeId, 'alarm'), Buffer.from(message), { qos: 1 });
  }
  await edge.endAsync();

  const clipId = clipIdOf(edgeId, 'trapped', since);
  let clip: Clip | undefined;
  await waitFor(
    async () => {
      const got = await api(`/v1/clips/${clipId}`);
      if (got.status !== 200) return false;
      clip = JSON.parse(got.body) as Clip;
      assert.notEqual(clip.status, 'failed', `the demo's clip failed: ${clip.reason}`);
      return clip.status === 'stored';
    },
    { timeoutMs: 120_000, message: `clip ${clipId} stored; the demo said:\n${o.said()}` },
  );
  assert.ok(clip?.links, 'a stored clip has signed links');
  const policy = DEFAULT_CLIP_POLICY.kinds.trapped!;
  const windowMs = end - since + (policy.preRollSeconds + policy.postRollSeconds) * 1000;
  assert.deepEqual(clip.window, {
    start: since - policy.preRollSeconds * 1000,
    end: end + policy.postRollSeconds * 1000,
  });
  assert.deepEqual(clip.camera, camera);
  assert.ok(
    (clip.durationMs ?? 0) >= windowMs - 1000,
    `${clip.durationMs} ms covers the ${windowMs} ms window`,
  );

  // The signed link (no key) serves the MP4, in ranges, as a browser's <video> seeks it.
  const whole = await httpsBytes(`${url}${clip.links.video}`, { ca });
  assert.equal(whole.status, 200);
  const part = await httpsBytes(`${url}${clip.links.video}`, { ca, headers: { range: 'bytes=0-99' } });
  assert.equal(part.status, 206);
  assert.deepEqual(part.body, whole.body.subarray(0, 100));
  const dir = mkdtempSync(join(tmpdir(), 'dh-demo-clip-'));
  try {
    writeFileSync(join(dir, 'video.mp4'), whole.body);
    const probed = await probeVideo(join(dir, 'video.mp4'));
    assert.ok(probed.durationMs >= windowMs - 1000, `the MP4 lasts ${probed.durationMs} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const poster = await httpsBytes(`${url}${clip.links.poster}`, { ca });
  assert.equal(poster.status, 200);
  assert.deepEqual([...poster.body.subarray(0, 2)], [0xff, 0xd8], 'the poster is a JPEG');
  return { edgeId, clipId, durationMs: clip.durationMs ?? 0 };
}
