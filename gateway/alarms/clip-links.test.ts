/**
 * A stored clip (a real MP4 from clips/media and its poster, in a filesystem object store) through
 * the gateway: `GET /v1/clips/{id}` with signed links; the links serve the bytes (200, Range 206
 * exact, suffix range, 416 past the end, ETag 304, HEAD) and refuse a missing, tampered or expired
 * signature with 403 and the reason; a clip not stored has no links. The web backend receives
 * `clip.ready` with a signed `url`/`posterUrl` that opens on the served gateway.
 */
// Redis Cluster pass: once (the gateway and the web-backend queues use Redis incidentally).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort, startWebBackendStandIn, type WebBackendStandIn, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { type Database, openDatabase } from '../db/database.ts';
import { serveGateway } from '../gateway.ts';
import { ClipLinkSigner } from './clip-links.ts';
import { type SeededClip, seedClipRow, seedStoredClip, startAlarmGateway } from './testdata/alarm-gateway.ts';

const t = useRedis();

interface ClipBody {
  id: string;
  status: string;
  durationMs: number;
  links: { video: string; poster: string; expiresAt: number } | null;
}

describe('a clip’s signed links', { timeout: 60_000 }, () => {
  let db: Database;
  let g: Awaited<ReturnType<typeof startAlarmGateway>>;
  let clip: SeededClip;
  let body: ClipBody;
  let backend: WebBackendStandIn;
  let served: { url: string; close(): Promise<void> };
  const since = Date.UTC(2026, 10, 20, 8, 0, 0);
  before(async () => {
    db = await openDatabase();
    backend = await startWebBackendStandIn();
    // Events' links point at the served gateway: its port is chosen first, then given to the links.
    const port = await freePort();
    g = await startAlarmGateway(t, {
      database: db,
      eventBaseUrl: `http://127.0.0.1:${port}`,
      webBackend: { url: backend.url, partitions: 1, backoffMs: { first: 50, max: 200 } },
    });
    served = await serveGateway(g.gateway, { port, hostname: '127.0.0.1' });
    clip = await seedStoredClip(g, { edgeId: 'E-clip', alarm: 'trapped', since, seconds: 6 });
    const res = await g.call(`/v1/clips/${clip.id}`);
    assert.equal(res.status, 200, await res.clone().text());
    body = (await res.json()) as ClipBody;
  });
  after(async () => {
    await served.close();
    await g.close();
    await db.close();
    await backend.close();
  });
  const open = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
    g.gateway.app.request(path, { method, headers });

  it('hands out links that work for an hour by default', () => {
    assert.equal(body.status, 'stored');
    assert.equal(body.durationMs, clip.durationMs);
    assert.ok(body.links);
    assert.match(body.links.video, new RegExp(`^/v1/clips/${clip.id}/video\\?exp=\\d+&sig=[\\w-]{43}$`));
    const hour = body.links.expiresAt - Date.now();
    assert.ok(hour > 3590_000 && hour <= 3600_000, `expires in ${hour} ms`);
  });

  it('makes the API’s links paths and events’ links absolute when only the listen address is known', () => {
    const signer = new ClipLinkSigner({ secretKey: g.secretKey, eventBaseUrl: 'http://10.0.0.5:8080/' });
    const now = Date.UTC(2026, 10, 30);
    assert.match(signer.links(clip.id, { now }).video, /^\/v1\/clips\//);
    const event = signer.links(clip.id, { now, forEvent: true });
    assert.ok(event.poster.startsWith(`http://10.0.0.5:8080/v1/clips/${clip.id}/poster?exp=`));
    assert.equal(event.expiresAt, now + 86_400_000);
    const both = new ClipLinkSigner({ secretKey: g.secretKey, publicUrl: 'https://dh.example' });
    assert.ok(both.links(clip.id).video.startsWith('https://dh.example/v1/clips/'));
    assert.throws(() => new ClipLinkSigner({ secretKey: Buffer.alloc(16) }), /at least 32 bytes/);
  });

  it('serves the video whole, by range (206, exact bytes), and refuses a range past the end', async () => {
    const links = body.links!;
    const whole = await open(links.video);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-type'), 'video/mp4');
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    assert.deepEqual(Buffer.from(await whole.arrayBuffer()), clip.video);
    const size = clip.video.length;

    const part = await open(links.video, { range: 'bytes=100-1099' });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 100-1099/${size}`);
    assert.equal(part.headers.get('content-length'), '1000');
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), clip.video.subarray(100, 1100));

    const tail = await open(links.video, { range: 'bytes=-64' });
    assert.equal(tail.status, 206);
    assert.equal(tail.headers.get('content-range'), `bytes ${size - 64}-${size - 1}/${size}`);
    assert.deepEqual(Buffer.from(await tail.arrayBuffer()), clip.video.subarray(size - 64));

    const past = await open(links.video, { range: `bytes=${size}-` });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get('content-range'), `bytes */${size}`);

    const etag = whole.headers.get('etag')!;
    assert.equal((await open(links.video, { 'if-none-match': etag })).status, 304);
    const head = await open(links.video, {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(size));
  });

  it('serves the poster as a JPEG', async () => {
    const poster = await open(body.links!.poster);
    assert.equal(poster.status, 200);
    assert.equal(poster.headers.get('content-type'), 'image/jpeg');
    const bytes = Buffer.from(await poster.arrayBuffer());
    assert.deepEqual(bytes, clip.poster);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff], 'a JPEG');
  });

  it('refuses a tampered, expired or missing signature with 403 and the reason', async () => {
    const { video, poster } = body.links!;
    const reason = async (path: string) => {
      const res = await open(path);
      assert.equal(res.status, 403, path);
      return ((await res.json()) as { error: { details: { reason: string } } }).error.details.reason;
    };
    const sig = /sig=([\w-]+)/.exec(video)![1]!;
    const flipped = `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
    assert.equal(await reason(video.replace(sig, flipped)), 'BAD_SIGNATURE');
    const exp = Number(/exp=(\d+)/.exec(video)![1]);
    assert.equal(await reason(video.replace(`exp=${exp}`, `exp=${exp + 3600}`)), 'BAD_SIGNATURE');
    // The video's signature does not open the poster, nor another clip.
    assert.equal(await reason(poster.replace(/sig=[\w-]+/, `sig=${sig}`)), 'BAD_SIGNATURE');
    const other = video.replace(clip.id, `c${'0'.repeat(31)}`);
    assert.equal(await reason(other), 'BAD_SIGNATURE');
    assert.equal(await reason(`/v1/clips/${clip.id}/video`), 'MISSING');
    assert.equal(await reason(`/v1/clips/${clip.id}/video?exp=abc&sig=${sig}`), 'BAD_SIGNATURE');
    // Signed with the gateway's key, but an hour ago's link for a minute.
    const signer = new ClipLinkSigner({ secretKey: g.secretKey });
    const stale = signer.links(clip.id, { ttlSeconds: 60, now: Date.now() - 3600_000 });
    assert.equal(await reason(stale.video), 'EXPIRED');
    const fresh = signer.links(clip.id, { ttlSeconds: 60 });
    assert.equal((await open(fresh.video, { range: 'bytes=0-9' })).status, 206);
  });

  it('has no links for a clip that is not stored, and 404s its content', async () => {
    const id = await seedClipRow(g.db, { edgeId: 'E-clip', alarm: 'ebike', since, status: 'queued' });
    const res = await g.call(`/v1/clips/${id}`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as ClipBody).links, null);
    const signer = new ClipLinkSigner({ secretKey: g.secretKey });
    assert.equal((await open(signer.links(id).video)).status, 404);
    assert.equal((await g.call(`/v1/clips/c${'f'.repeat(31)}`)).status, 404);
    assert.equal((await g.call('/v1/clips/not-a-clip')).status, 400);
    assert.equal((await g.gateway.app.request(`/v1/clips/${clip.id}`)).status, 401);
  });

  it('sends clip.ready to the web backend with links to the video and poster that open for a day', async () => {
    const sent = Date.now();
    await g.gateway.webBackend!.enqueue([
      {
        id: 'g0-1-0',
        emittedAt: sent,
        event: {
          type: 'clip.ready',
          edgeId: 'E-clip',
          clipId: clip.id,
          alarm: 'trapped',
          since,
          bytes: clip.video.length,
          durationMs: clip.durationMs,
        },
      },
    ]);
    await waitFor(() => backend.events.has('g0-1-0'), { message: 'clip.ready delivered' });
    const event = backend.events.get('g0-1-0') as unknown as {
      url: string;
      posterUrl: string;
      urlExpiresAt: number;
      clipId: string;
    };
    assert.equal(event.clipId, clip.id);
    assert.ok(event.url.startsWith(`${served.url}/v1/clips/${clip.id}/video?exp=`), event.url);
    const day = event.urlExpiresAt - sent;
    assert.ok(day > 86_390_000 && day <= 86_401_000, `the links work for a day, got ${day} ms`);
    const video = await fetch(event.url);
    assert.equal(video.status, 200);
    assert.equal(video.headers.get('content-type'), 'video/mp4');
    assert.deepEqual(Buffer.from(await video.arrayBuffer()), clip.video);
    const poster = await fetch(event.posterUrl);
    assert.equal(poster.status, 200);
    assert.deepEqual(Buffer.from(await poster.arrayBuffer()), clip.poster);
  });
});
