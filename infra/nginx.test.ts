/**
 * The CDN tier with real nginx on both sides: a static nginx origin serving an artifact by its
 * SHA-256, nginx caches in front of it (proxy_cache + slice 1m + proxy_cache_lock). A herd of
 * downloads costs the origin one copy, ranges come from cached slices (a cold range fetches only
 * its slices), a warm cache serves on with the origin down, an HTTPS origin is checked against
 * the fleet CA, and compose’s configuration has the same caching block.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type NginxServer, startNginxCache, startNginxOrigin } from './nginx.ts';
import { cdnLocation } from './nginx-conf.ts';
import { startTestPki } from './tls.ts';
import { waitFor } from './wait-for.ts';

const MiB = 1024 * 1024;
const temp = (prefix: string) => mkdtempSync(join(tmpdir(), `devicehub-${prefix}-`));
const originBytes = (origin: NginxServer) => origin.accessLog().reduce((sum, e) => sum + e.bytes, 0);
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('nginx CDN cache', { timeout: 60_000 }, () => {
  // 3.5 MiB: four slices, the last one short.
  const artifact = randomBytes(3.5 * MiB);
  const sha = sha256(artifact);
  const path = `/v1/artifacts/${sha}/content`;
  let origin: NginxServer;
  const servers: NginxServer[] = [];

  before(async () => {
    const root = temp('origin-root');
    writeFileSync(join(root, sha), artifact);
    origin = await startNginxOrigin({ root, dir: temp('origin') });
    servers.push(origin);
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });
  const cache = async () => {
    const server = await startNginxCache({ origin: origin.url, dir: temp('cache') });
    servers.push(server);
    return server;
  };

  it('serves a herd of downloads of one artifact with one copy from the origin', async () => {
    const cdn = await cache();
    const before = originBytes(origin);
    const downloads = 12;
    const bodies = await Promise.all(
      Array.from({ length: downloads }, async () => {
        const res = await fetch(`${cdn.url}${path}`);
        assert.equal(res.status, 200);
        return new Uint8Array(await res.arrayBuffer());
      }),
    );
    for (const body of bodies) assert.equal(sha256(body), sha, 'every client gets the artifact');
    await waitFor(() => originBytes(origin) - before >= artifact.length, { message: 'the origin’s log' });
    assert.equal(
      originBytes(origin) - before,
      artifact.length,
      `${downloads} downloads, the origin sent the artifact once`,
    );
    const slices = origin.accessLog().slice(-4);
    assert.deepEqual(
      slices.map((e) => [e.status, e.range]),
      [0, 1, 2, 3].map((i) => [206, `bytes=${i * MiB}-${(i + 1) * MiB - 1}`]),
      'fetched in 1 MiB slices',
    );
    await waitFor(() => cdn.accessLog().length === downloads, { message: 'the cache’s log' });
    assert.ok(
      cdn.accessLog().some((e) => e.cache === 'HIT'),
      'later clients were served from the cache',
    );
  });

  it('answers ranges from cached slices, and a cold range costs only its slices', async () => {
    const cdn = await cache();
    const start = Math.floor(1.5 * MiB);
    const end = Math.floor(2.5 * MiB);
    const before = originBytes(origin);
    const cold = await fetch(`${cdn.url}${path}`, { headers: { range: `bytes=${start}-${end}` } });
    assert.equal(cold.status, 206);
    assert.equal(cold.headers.get('content-range'), `bytes ${start}-${end}/${artifact.length}`);
    assert.ok(Buffer.from(await cold.arrayBuffer()).equals(artifact.subarray(start, end + 1)));
    await waitFor(() => originBytes(origin) - before >= 2 * MiB, { message: 'the origin’s log' });
    assert.deepEqual(
      origin
        .accessLog()
        .slice(-2)
        .map((e) => e.range),
      [`bytes=${MiB}-${2 * MiB - 1}`, `bytes=${2 * MiB}-${3 * MiB - 1}`],
      'only the two slices the range covers',
    );
    assert.equal(originBytes(origin) - before, 2 * MiB);

    const warm = await fetch(`${cdn.url}${path}`, { headers: { range: `bytes=${start + 10}-` } });
    assert.equal(warm.status, 206);
    assert.ok(Buffer.from(await warm.arrayBuffer()).equals(artifact.subarray(start + 10)));
    await waitFor(() => cdn.accessLog().length === 2, { message: 'the cache’s log' });
    // The tail slice (3 MiB-) was not cached yet: it, and only it, came from the origin.
    await waitFor(() => originBytes(origin) - before >= artifact.length - MiB, { message: 'the tail' });
    assert.equal(originBytes(origin) - before, artifact.length - MiB, 'slices 1 and 2 from the cache');
    assert.equal(
      (await fetch(`${cdn.url}/v1/artifacts/${sha}/other`)).status,
      404,
      'nothing else is proxied',
    );
    assert.equal((await fetch(`${cdn.url}${path}`, { method: 'POST' })).status, 403, 'GET only');
  });

  it('fetches from an HTTPS origin whose certificate chains to the fleet CA, and serves HTTPS', async () => {
    const pki = await startTestPki();
    const root = temp('tls-root');
    writeFileSync(join(root, sha), artifact);
    const tlsOrigin = await startNginxOrigin({ root, dir: temp('tls-origin'), tls: pki.server });
    servers.push(tlsOrigin);
    const trusting = await startNginxCache({
      origin: tlsOrigin.url,
      originCa: pki.caFile,
      originServerName: 'localhost',
      dir: temp('tls-cache'),
      tls: pki.server,
    });
    servers.push(trusting);
    const { request } = await import('node:https');
    const body = await new Promise<Buffer>((resolve, reject) => {
      request(`${trusting.url}${path}`, { ca: readFileSync(pki.caFile) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(sha256(body), sha);

    const otherCa = await startTestPki();
    const suspicious = await startNginxCache({
      origin: tlsOrigin.url,
      originCa: otherCa.caFile,
      originServerName: 'localhost',
      dir: temp('bad-ca'),
    });
    servers.push(suspicious);
    assert.equal(
      (await fetch(`${suspicious.url}${path}`)).status,
      502,
      'an origin the CA did not sign is refused',
    );
    assert.match(readFileSync(suspicious.errorLogFile, 'utf8'), /upstream SSL certificate verify error/);
  });

  it('keeps serving a warm artifact, whole and in ranges, while the origin is down', async () => {
    const root = temp('down-root');
    writeFileSync(join(root, sha), artifact);
    const own = await startNginxOrigin({ root, dir: temp('down-origin') });
    servers.push(own);
    const cdn = await startNginxCache({ origin: own.url, dir: temp('down-cache') });
    servers.push(cdn);
    assert.equal(sha256(new Uint8Array(await (await fetch(`${cdn.url}${path}`)).arrayBuffer())), sha);
    await own.stop();
    const whole = await fetch(`${cdn.url}${path}`);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('x-cache-status'), 'HIT');
    assert.equal(sha256(new Uint8Array(await whole.arrayBuffer())), sha);
    const range = await fetch(`${cdn.url}${path}`, { headers: { range: 'bytes=2000000-' } });
    assert.equal(range.status, 206);
    assert.ok(Buffer.from(await range.arrayBuffer()).equals(artifact.subarray(2_000_000)));
  });

  it('has the same caching block in compose’s configuration (deploy/nginx/cdn.conf)', () => {
    const conf = readFileSync(fileURLToPath(new URL('../deploy/nginx/cdn.conf', import.meta.url)), 'utf8');
    const lines = (text: string) =>
      text
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
    const block = lines(cdnLocation({ origin: 'http://gateways' }));
    const fileLines = lines(conf);
    const at = fileLines.indexOf(block[0]!);
    assert.ok(at >= 0, 'the location is there');
    assert.deepEqual(fileLines.slice(at, at + block.length), block);
    assert.match(conf, /proxy_cache_path \S+ levels=1:2 keys_zone=artifacts:/);
  });
});
