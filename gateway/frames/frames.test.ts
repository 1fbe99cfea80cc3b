/**
 * Vision frames through a served gateway (real HTTP, PGlite, the filesystem object store): an edge
 * uploads its frame with its own credentials and an operator reads it back; a retried upload is a
 * 200 and other bytes a 409; each bad input of issue 17 — another edge's path, an API key, no or
 * wrong credentials, another content type, a body that is no JPEG, an empty one, a 50 MB one (413
 * by Content-Length, and while streaming without the gateway's memory growing by it) — is a clear
 * 4xx, counted on /metrics. A truncated JPEG is stored as the bytes the edge had: the gateway only
 * checks the magic bytes; decoding it, and calling it `invalid`, is the recognition worker's.
 */
// Redis Cluster pass: once (what this tests is the upload route over HTTP into the object store; its Redis use is incidental).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { useRedis } from '../../infra/test-redis.ts';
import { FsObjectStore, frameKey } from '../../objects/mod.ts';
import { createApiKey } from '../auth.ts';
import { type Database, openDatabase } from '../db/database.ts';
import { createGateway, type Gateway, serveGateway } from '../gateway.ts';
import { basic } from '../testdata/harness.ts';

const t = useRedis();
const dir = mkdtempSync(join(tmpdir(), 'dh-frames-'));
const MB = 1024 * 1024;
let database: Database;
let objects: FsObjectStore;
let gateway: Gateway;
let url: string;
let closeServer: () => Promise<void>;
const keys = { admin: '', operator: '', service: '' };
const secrets: Record<string, string> = {};
let jpeg: Buffer;
let other: Buffer;

const edge = (id: string) => basic(id, secrets[id]!);

function put(
  path: string,
  body: Uint8Array | undefined,
  o: { auth?: string; type?: string | null } = {},
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (o.auth !== undefined) headers.authorization = o.auth;
  if (o.type !== null) headers['content-type'] = o.type ?? 'image/jpeg';
  return fetch(`${url}${path}`, { method: 'PUT', headers, ...(body === undefined ? {} : { body }) });
}

async function refusal(res: Response, status: number, code?: string): Promise<string> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  if (code !== undefined) assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, code);
  return text;
}

/** A Prometheus counter's sample with exactly these labels (0 when absent). */
async function counter(labels: string): Promise<number> {
  const text = await (await gateway.app.request('/metrics')).text();
  const line = text.split('\n').find((l) => l.startsWith(`devicehub_frame_uploads_total{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describe('vision frames', { timeout: 60_000 }, () => {
  // Inside the describe: they run before the file's Redis stops.
  before(async () => {
    database = await openDatabase();
    objects = await FsObjectStore.open(join(dir, 'objects'));
    gateway = await createGateway({ database, bus: t.bus(t.keyspace(), t.connect()), objects });
    const served = await serveGateway(gateway);
    url = served.url;
    closeServer = () => served.close();
    for (const scope of ['admin', 'operator', 'service'] as const)
      keys[scope] = (await createApiKey(database.db, { name: scope, scope })).key;
    for (const id of ['E-1', 'E-2', '_lift.7']) {
      const res = await gateway.app.request('/v1/edges', {
        method: 'POST',
        headers: { authorization: `Bearer ${keys.admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id }),
      });
      assert.equal(res.status, 201, await res.clone().text());
      secrets[id] = ((await res.json()) as { secret: string }).secret;
    }
    const picture = (r: number) =>
      sharp({ create: { width: 64, height: 48, channels: 3, background: { r, g: 90, b: 40 } } })
        .jpeg({ quality: 90 })
        .toBuffer();
    [jpeg, other] = await Promise.all([picture(200), picture(20)]);
  });
  after(async () => {
    await closeServer?.();
    await gateway?.stop();
    await objects?.[Symbol.asyncDispose]();
    await database?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores an edge’s frame at its key and serves it to operators', async () => {
    const res = await put('/v1/edges/E-1/frames/ev-1?index=1', jpeg, { auth: edge('E-1') });
    assert.equal(res.status, 201, await res.clone().text());
    assert.deepEqual(await res.json(), { edgeId: 'E-1', eventId: 'ev-1', index: 1, size: jpeg.length });
    const stored = await objects.get(frameKey('E-1', 'ev-1', 1));
    assert.equal(stored.info.contentType, 'image/jpeg');
    assert.ok(Buffer.from(await new Response(stored.body).arrayBuffer()).equals(jpeg));

    const got = await fetch(`${url}/v1/edges/E-1/frames/ev-1/1`, {
      headers: { authorization: `Bearer ${keys.operator}` },
    });
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), 'image/jpeg');
    assert.ok(Buffer.from(await got.arrayBuffer()).equals(jpeg));
    const missing = await fetch(`${url}/v1/edges/E-1/frames/ev-1/2`, {
      headers: { authorization: `Bearer ${keys.operator}` },
    });
    await refusal(missing, 404, 'NOT_FOUND');
    // Frames are the operators': a service key, an edge (even its own) and no credentials are not let in.
    for (const [auth, status] of [
      [`Bearer ${keys.service}`, 403],
      [edge('E-1'), 403],
      [undefined, 401],
    ] as const) {
      const res = await fetch(
        `${url}/v1/edges/E-1/frames/ev-1/1`,
        auth ? { headers: { authorization: auth } } : {},
      );
      await refusal(res, status);
    }
  });

  it('takes an edge id that is no key segment as it is (a leading underscore)', async () => {
    const res = await put('/v1/edges/_lift.7/frames/ev-9', jpeg, { auth: edge('_lift.7') });
    assert.equal(res.status, 201, await res.clone().text());
    assert.equal((await objects.head(frameKey('_lift.7', 'ev-9', 0)))?.size, jpeg.length);
  });

  it('answers a retried upload 200 and other bytes for a stored frame 409', async () => {
    const stored = await counter('outcome="stored",reason=""');
    const path = '/v1/edges/E-1/frames/ev-2?index=0';
    assert.equal((await put(path, jpeg, { auth: edge('E-1') })).status, 201);
    const again = await put(path, jpeg, { auth: edge('E-1') });
    assert.equal(again.status, 200, await again.clone().text());
    const text = await refusal(await put(path, other, { auth: edge('E-1') }), 409, 'CONFLICT');
    assert.match(text, /other bytes/);
    assert.ok(
      Buffer.from(
        await new Response((await objects.get(frameKey('E-1', 'ev-2', 0))).body).arrayBuffer(),
      ).equals(jpeg),
    );
    assert.equal(await counter('outcome="stored",reason=""'), stored + 1);
    assert.ok((await counter('outcome="duplicate",reason=""')) >= 1);
    assert.ok((await counter('outcome="refused",reason="conflict"')) >= 1);
  });

  it('lets an edge upload only its own frames, and only with its own credentials', async () => {
    const before = await counter('outcome="refused",reason="forbidden"');
    const text = await refusal(
      await put('/v1/edges/E-2/frames/ev-3', jpeg, { auth: edge('E-1') }),
      403,
      'FORBIDDEN',
    );
    assert.match(text, /E-1 may only upload its own frames/);
    await refusal(
      await put('/v1/edges/E-2/frames/ev-3', jpeg, { auth: `Bearer ${keys.admin}` }),
      403,
      'FORBIDDEN',
    );
    await refusal(await put('/v1/edges/E-2/frames/ev-3', jpeg), 401, 'UNAUTHENTICATED');
    await refusal(await put('/v1/edges/E-2/frames/ev-3', jpeg, { auth: basic('E-2', 'wrong') }), 401);
    await refusal(await put('/v1/edges/E-2/frames/ev-3', jpeg, { auth: 'Digest scope=frames' }), 401);
    assert.equal(await objects.head(frameKey('E-2', 'ev-3', 0)), undefined);
    assert.equal(await counter('outcome="refused",reason="forbidden"'), before + 2);
  });

  it('refuses another content type (415), a body that is no JPEG or empty (400), a bad index or event id (400)', async () => {
    const auth = edge('E-1');
    await refusal(
      await put('/v1/edges/E-1/frames/ev-4', jpeg, { auth, type: 'image/png' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    await refusal(
      await put('/v1/edges/E-1/frames/ev-4', jpeg, { auth, type: null }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    const png = await sharp(jpeg).png().toBuffer();
    const text = await refusal(await put('/v1/edges/E-1/frames/ev-4', png, { auth }), 400, 'NOT_JPEG');
    assert.match(text, /not a JPEG: it starts 89504e47/);
    await refusal(
      await put('/v1/edges/E-1/frames/ev-4', Buffer.from('hello, not a picture'), { auth }),
      400,
      'NOT_JPEG',
    );
    await refusal(await put('/v1/edges/E-1/frames/ev-4', new Uint8Array(0), { auth }), 400, 'EMPTY');
    await refusal(await put('/v1/edges/E-1/frames/ev-4?index=4', jpeg, { auth }), 400, 'INVALID_REQUEST');
    await refusal(await put('/v1/edges/E-1/frames/ev%2F..?index=0', jpeg, { auth }), 400);
    assert.equal(await objects.head(frameKey('E-1', 'ev-4', 0)), undefined);
    assert.ok((await counter('outcome="refused",reason="not_jpeg"')) >= 2);
    assert.ok((await counter('outcome="refused",reason="unsupported_media_type"')) >= 2);
  });

  it('stores a truncated JPEG as the edge’s bytes (decoding it is the worker’s: verdict invalid)', async () => {
    const truncated = jpeg.subarray(0, Math.floor(jpeg.length * 0.6));
    const res = await put('/v1/edges/E-1/frames/ev-5', truncated, { auth: edge('E-1') });
    assert.equal(res.status, 201, await res.clone().text());
    assert.equal((await objects.head(frameKey('E-1', 'ev-5', 0)))?.size, truncated.length);
  });

  it('refuses a 50 MB upload with 413: by its Content-Length at once, and while it streams without holding it', async (test) => {
    const size = 50 * MB;
    const byLength = await uploadRaw('/v1/edges/E-1/frames/ev-6', size, { contentLength: true });
    assert.equal(byLength.status, 413, byLength.body);
    assert.match(byLength.body, /TOO_LARGE/);

    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 10);
    let streamed: Awaited<ReturnType<typeof uploadRaw>>;
    try {
      streamed = await uploadRaw('/v1/edges/E-1/frames/ev-6', size, { contentLength: false });
    } finally {
      clearInterval(sampler);
    }
    assert.equal(streamed.status, 413, streamed.body);
    const growth = rssPeak - rssBefore;
    test.diagnostic(
      `chunked 50 MB: refused after the client wrote ${(streamed.written / MB).toFixed(1)} MB; RSS grew ${(growth / MB).toFixed(1)} MB`,
    );
    // The gateway runs in this process: 50 MB held anywhere would show; the bound (2 MiB) and a chunk may.
    assert.ok(growth < 16 * MB, `RSS grew ${Math.round(growth / MB)} MB`);
    assert.ok(streamed.written < size, `the client wrote all ${size} bytes before the answer`);
    assert.equal(await objects.head(frameKey('E-1', 'ev-6', 0)), undefined);
    assert.ok((await counter('outcome="refused",reason="too_large"')) >= 2);
  });

  it('answers 503 on a gateway without an object store', async () => {
    await using bare = await createGateway({ database, bus: t.bus(t.keyspace(), t.connect()) });
    const res = await bare.app.request('/v1/edges/E-1/frames/ev-7', {
      method: 'PUT',
      headers: { authorization: edge('E-1'), 'content-type': 'image/jpeg' },
      body: jpeg,
    });
    await refusal(res, 503, 'UNAVAILABLE');
  });
});

/**
 * PUTs `size` bytes that start like a JPEG, 64 KiB at a time, as the edge E-1 (node:http: the
 * answer may come while the body is still being written, and writing stops then).
 */
function uploadRaw(
  path: string,
  size: number,
  o: { contentLength: boolean },
): Promise<{ status: number; body: string; written: number }> {
  const chunk = Buffer.alloc(64 * 1024, 7);
  chunk.set([0xff, 0xd8, 0xff, 0xe0]);
  return new Promise((resolve, reject) => {
    let written = 0;
    let answered = false;
    const req = request(`${url}${path}`, {
      method: 'PUT',
      headers: {
        authorization: edge('E-1'),
        'content-type': 'image/jpeg',
        ...(o.contentLength ? { 'content-length': String(size) } : {}),
      },
    });
    req.once('response', (res) => {
      answered = true;
      const parts: Buffer[] = [];
      res.on('data', (p: Buffer) => parts.push(p));
      res.once('end', () => {
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8'), written });
        req.destroy();
      });
    });
    // The gateway may close the connection after its answer, while this side still writes.
    req.once('error', (err) => {
      if (!answered) reject(err);
    });
    const pump = () => {
      while (!answered && written < size) {
        written += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}
