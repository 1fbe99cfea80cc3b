/**
 * The artifacts API in-process (`app.request`) over PGlite, a real Redis and the filesystem object
 * store, with a 1 MiB bound: an upload stored content-addressed and served with Range, ETag and
 * immutable caching; a retried upload; every refusal (too large — declared or streamed —,
 * truncated, broken off, mis-hashed, empty, conflicting, bad queries, wrong scope), each leaving
 * nothing in the store or the table, each counted on /metrics by reason. A gateway without an
 * object store: artifacts-unavailable.test.ts.
 */
// Redis Cluster pass: once (what this tests is uploads into the object store and the database; its Redis use is incidental).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { useRedis } from '../../infra/test-redis.ts';
import type { ArtifactRecord } from './mod.ts';
import { keys, MAX, openArtifactsRig, sha256, stream } from './testdata/artifacts-rig.ts';

const t = useRedis();
const root = mkdtempSync(join(tmpdir(), 'dh-artifacts-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('artifacts', { timeout: 60_000 }, () => {
  // One gateway and database for the file (PGlite's start is most of a test's time); names differ.
  let s: Awaited<ReturnType<typeof openArtifactsRig>>;
  before(async () => {
    s = await openArtifactsRig(t, root);
  });
  after(() => s[Symbol.asyncDispose]());

  it('stores an upload content-addressed and serves it with Range, ETag and immutable caching', async () => {
    const bytes = randomBytes(300_000);
    const sha = sha256(bytes);
    const q = 'kind=edge-package&name=elenet&version=2.4.1&hardware=rv1126,rv1109&fileName=elenet-2.4.1.tar';
    const created = await s.send(
      'POST',
      `/v1/artifacts?${q}`,
      stream([bytes.subarray(0, 100_000), bytes.subarray(100_000)]),
      {
        'x-content-sha256': sha.toUpperCase(),
      },
    );
    assert.equal(created.status, 201, await created.clone().text());
    const record = (await created.json()) as ArtifactRecord;
    assert.deepEqual(
      { ...record, createdAt: undefined },
      {
        sha256: sha,
        kind: 'edge-package',
        name: 'elenet',
        version: '2.4.1',
        hardware: ['rv1126', 'rv1109'],
        size: bytes.length,
        fileName: 'elenet-2.4.1.tar',
        createdAt: undefined,
      },
    );
    assert.deepEqual(s.registered, [record]);
    assert.deepEqual(await keys(s.objects), [`artifacts/sha256/${sha}`]);

    // The same upload again (a retry): the record, 200, no second registration.
    const again = await s.send('POST', `/v1/artifacts?${q}`, bytes);
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), record);
    assert.equal(s.registered.length, 1);

    // Records for operators; the bytes for anyone.
    const list = await s.gateway.app.request('/v1/artifacts?kind=edge-package', {
      headers: { authorization: `Bearer ${s.operator}` },
    });
    assert.deepEqual(await list.json(), { artifacts: [record] });
    const one = await s.gateway.app.request(`/v1/artifacts/${sha}`, {
      headers: { authorization: `Bearer ${s.operator}` },
    });
    assert.deepEqual(await one.json(), record);
    assert.equal((await s.gateway.app.request(`/v1/artifacts/${sha}`)).status, 401);

    const whole = await s.gateway.app.request(`/v1/artifacts/${sha}/content`);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('etag'), `"${sha}"`);
    assert.equal(whole.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(whole.headers.get('content-length'), String(bytes.length));
    assert.equal(sha256(new Uint8Array(await whole.arrayBuffer())), sha);

    const part = await s.gateway.app.request(`/v1/artifacts/${sha}/content`, {
      headers: { range: 'bytes=1000-1999' },
    });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 1000-1999/${bytes.length}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(1000, 2000));
    const suffix = await s.gateway.app.request(`/v1/artifacts/${sha}/content`, {
      headers: { range: 'bytes=-10' },
    });
    assert.equal(suffix.status, 206);
    assert.deepEqual(Buffer.from(await suffix.arrayBuffer()), bytes.subarray(bytes.length - 10));
    const past = await s.gateway.app.request(`/v1/artifacts/${sha}/content`, {
      headers: { range: `bytes=${bytes.length}-` },
    });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get('content-range'), `bytes */${bytes.length}`);
    assert.equal(((await past.json()) as { error: { code: string } }).error.code, 'RANGE_NOT_SATISFIABLE');
    const head = await s.gateway.app.request(`/v1/artifacts/${sha}/content`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(bytes.length));
    assert.equal(head.headers.get('etag'), `"${sha}"`);
    const stale = await s.gateway.app.request(`/v1/artifacts/${sha}/content`, {
      headers: { range: 'bytes=0-9', 'if-range': '"other"' },
    });
    assert.equal(stale.status, 200);
    await stale.body?.cancel();
    const cached = await s.gateway.app.request(`/v1/artifacts/${sha}/content`, {
      headers: { 'if-none-match': `"${sha}"` },
    });
    assert.equal(cached.status, 304);
    const missing = await s.gateway.app.request(`/v1/artifacts/${'0'.repeat(64)}/content`);
    assert.equal(missing.status, 404);

    // PUT under kind/name/version; the default file name.
    const put = await s.send('PUT', '/v1/artifacts/model/plates/7', randomBytes(10));
    assert.equal(put.status, 201);
    assert.equal(((await put.json()) as ArtifactRecord).fileName, 'plates-7');
    assert.equal((await s.rows()).length, 2);
  });

  it('refuses every bad upload with its reason, leaving nothing in the store or the table', async () => {
    const kept = randomBytes(1000);
    assert.equal((await s.send('POST', '/v1/artifacts?kind=model&name=m&version=1', kept)).status, 201);
    const stored = await keys(s.objects);
    const rows = (await s.rows()).length;
    const q = '/v1/artifacts?kind=edge-package&name=elenet&version=9';
    const refusals: [string, Promise<Response>, number, string][] = [
      [
        'declared too large',
        s.send('POST', q, stream([randomBytes(10)]), { 'content-length': String(MAX + 1) }),
        413,
        'TOO_LARGE',
      ],
      [
        'streamed too large',
        s.send('POST', q, stream([randomBytes(MAX / 2), randomBytes(MAX / 2), randomBytes(1)])),
        413,
        'TOO_LARGE',
      ],
      [
        'shorter than Content-Length',
        s.send('POST', q, stream([randomBytes(500)]), { 'content-length': '1000' }),
        400,
        'TRUNCATED',
      ],
      ['broken off', s.send('POST', q, stream([randomBytes(500)], new Error('reset'))), 400, 'TRUNCATED'],
      [
        'longer than Content-Length',
        s.send('POST', q, stream([randomBytes(600), randomBytes(600)]), { 'content-length': '1000' }),
        400,
        'LENGTH_MISMATCH',
      ],
      [
        'mis-hashed',
        s.send('POST', q, randomBytes(100), { 'x-content-sha256': 'a'.repeat(64) }),
        400,
        'HASH_MISMATCH',
      ],
      ['empty', s.send('POST', q, new Uint8Array(0)), 400, 'EMPTY'],
      ['no body', s.send('POST', q, undefined), 400, 'EMPTY'],
      [
        'name/version taken by other bytes',
        s.send('POST', '/v1/artifacts?kind=model&name=m&version=1', randomBytes(1000)),
        409,
        'CONFLICT',
      ],
      [
        'bytes taken by another name',
        s.send('POST', '/v1/artifacts?kind=model&name=m&version=2', kept),
        409,
        'CONFLICT',
      ],
      [
        'other file name, same version',
        s.send('POST', '/v1/artifacts?kind=model&name=m&version=1&fileName=x.bin', kept),
        409,
        'CONFLICT',
      ],
      [
        'hash contradicts the registered version',
        s.send('POST', '/v1/artifacts?kind=model&name=m&version=1', randomBytes(10), {
          'x-content-sha256': 'b'.repeat(64),
        }),
        409,
        'CONFLICT',
      ],
      [
        'unknown kind',
        s.send('POST', '/v1/artifacts?kind=firmware&name=a&version=1', kept),
        400,
        'INVALID_REQUEST',
      ],
      [
        'bad name',
        s.send('POST', '/v1/artifacts?kind=model&name=../etc&version=1', kept),
        400,
        'INVALID_REQUEST',
      ],
      [
        'bad hardware',
        s.send('POST', '/v1/artifacts?kind=model&name=a&version=1&hardware=rv1126,a%20b', kept),
        400,
        'INVALID_REQUEST',
      ],
      ['bad hash header', s.send('POST', q, kept, { 'x-content-sha256': 'xyz' }), 400, 'INVALID_REQUEST'],
      [
        'operator scope',
        s.send('POST', q, kept, { authorization: `Bearer ${s.operator}` }),
        403,
        'FORBIDDEN',
      ],
      [
        'no credentials',
        s.send('PUT', '/v1/artifacts/model/a/1', kept, { authorization: '' }),
        401,
        'UNAUTHENTICATED',
      ],
    ];
    for (const [what, response, status, code] of refusals) {
      const res = await response;
      const body = (await res.json()) as { error: { code: string } };
      assert.equal(res.status, status, `${what}: ${JSON.stringify(body)}`);
      assert.equal(body.error.code, code, what);
    }
    assert.deepEqual(await keys(s.objects), stored);
    assert.equal((await s.rows()).length, rows);
    assert.equal(s.registered.length, rows);
    const metrics = await (await s.gateway.app.request('/metrics')).text();
    for (const [reason, count] of [
      ['TOO_LARGE', 2],
      ['TRUNCATED', 2],
      ['HASH_MISMATCH', 1],
      ['EMPTY', 2],
      ['CONFLICT', 4],
      ['LENGTH_MISMATCH', 1],
    ] as const)
      assert.match(
        metrics,
        new RegExp(`devicehub_artifact_uploads_total\\{outcome="refused",reason="${reason}"\\} ${count}\\n`),
        reason,
      );
    assert.match(metrics, /devicehub_artifact_uploads_total\{outcome="stored",reason=""\} 3\n/);
    assert.match(metrics, /devicehub_artifact_uploads_total\{outcome="duplicate",reason=""\} 1\n/);
  });
});
