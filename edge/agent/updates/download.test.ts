/**
 * The agent's downloader against real nginx: a static origin, a cache in front of it, a mirror
 * serving other bytes at the same path, and small Node servers for the faults nginx will not
 * make on demand (a body cut mid-way, a mirror that never answers).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type NginxServer, startNginxCache, startNginxOrigin } from '../../../infra/mod.ts';
import { startTestPki } from '../../../infra/tls.ts';
import { downloadArtifact } from './download.ts';
import { UpdateError } from './errors.ts';
import { MirrorCounters } from './mirror-counters.ts';
import { abortableDelay, spreadDelay } from './spread.ts';

const MiB = 1024 * 1024;
const temp = (prefix: string) => mkdtempSync(join(tmpdir(), `devicehub-${prefix}-`));
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('downloadArtifact', { timeout: 60_000 }, () => {
  const artifact = randomBytes(3 * MiB + 12_345);
  const sha = sha256(artifact);
  const contentPath = `/v1/artifacts/${sha}/content`;
  const target = { contentPath, sha256: sha, length: artifact.length };
  const servers: { stop(): Promise<void> }[] = [];
  let cdn: NginxServer;
  let liar: NginxServer;

  /** A Node server answering every request with `handler`. */
  const nodeServer = async (handler: Parameters<typeof createServer>[1]) => {
    const server: Server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push({
      stop: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  before(async () => {
    const root = temp('dl-root');
    writeFileSync(join(root, sha), artifact);
    const origin = await startNginxOrigin({ root, dir: temp('dl-origin') });
    servers.push(origin);
    cdn = await startNginxCache({ origin: origin.url, dir: temp('dl-cache') });
    servers.push(cdn);
    // Other bytes of the same length at the same path: a hostile or broken mirror.
    const lies = temp('dl-lies');
    writeFileSync(join(lies, sha), randomBytes(artifact.length));
    liar = await startNginxOrigin({ root: lies, dir: temp('dl-liar') });
    servers.push(liar);
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('downloads through the cache into dest, hashed, without leaving a part file', async () => {
    const dest = join(temp('dl'), 'a.bin');
    const seen: number[] = [];
    const result = await downloadArtifact({
      ...target,
      mirrors: [cdn.url],
      dest,
      onProgress: (p) => seen.push(p.bytes),
    });
    assert.deepEqual(result, { mirror: cdn.url, bytes: artifact.length, resumedFrom: 0, delayMs: 0 });
    assert.equal(sha256(readFileSync(dest)), sha);
    assert.equal(existsSync(`${dest}.part`), false);
    assert.equal(seen.at(-1), artifact.length, 'progress reaches the end');
    assert.ok(
      seen.every((b, i) => i === 0 || b >= seen[i - 1]!),
      'progress only grows',
    );
  });

  it('resumes a cut download with Range from the part on disk, re-hashing it first', async () => {
    const dest = join(temp('dl'), 'a.bin');
    const stop = new AbortController();
    await assert.rejects(
      downloadArtifact({
        ...target,
        mirrors: [cdn.url],
        dest,
        signal: stop.signal,
        onProgress: (p) => p.bytes >= MiB && stop.abort(new Error('agent stopped')),
      }),
      /agent stopped/,
    );
    const cut = statSync(`${dest}.part`).size;
    assert.ok(cut >= MiB && cut < artifact.length, `a part of ${cut} bytes stays`);

    const logged = cdn.accessLog().length;
    const result = await downloadArtifact({ ...target, mirrors: [cdn.url], dest });
    assert.equal(result.resumedFrom, cut);
    assert.equal(result.bytes, artifact.length - cut, 'only the rest came over the network');
    assert.equal(sha256(readFileSync(dest)), sha);
    const resumed = cdn.accessLog().slice(logged);
    assert.deepEqual(
      resumed.map((e) => [e.status, e.range]),
      [[206, `bytes=${cut}-`]],
    );
  });

  it('goes on with the next mirror from where a cut mirror stopped', async () => {
    const cutter = await nodeServer((_req, res) => {
      res.writeHead(200, { 'content-length': artifact.length });
      res.write(artifact.subarray(0, 1.5 * MiB), () => res.destroy());
    });
    const counters = new MirrorCounters();
    const dest = join(temp('dl'), 'a.bin');
    const result = await downloadArtifact({ ...target, mirrors: [cutter, cdn.url], dest, counters });
    assert.equal(result.mirror, cdn.url);
    assert.ok(result.resumedFrom > 0 && result.resumedFrom <= 1.5 * MiB, `resumed at ${result.resumedFrom}`);
    assert.equal(sha256(readFileSync(dest)), sha);
    assert.equal(counters.get(cutter).error, 1);
    assert.deepEqual(counters.get(cdn.url), { error: 0, timeout: 0, hash: 0 });
  });

  it('detects a mirror serving wrong bytes, counts it, skips it and gets the artifact from the next', async () => {
    const counters = new MirrorCounters();
    const dest = join(temp('dl'), 'a.bin');
    const result = await downloadArtifact({ ...target, mirrors: [liar.url, cdn.url], dest, counters });
    assert.equal(result.mirror, cdn.url);
    assert.equal(result.resumedFrom, 0, 'the liar’s bytes were discarded, not resumed from');
    assert.equal(sha256(readFileSync(dest)), sha);
    assert.deepEqual(counters.get(liar.url), { error: 0, timeout: 0, hash: 1 });

    // With no good mirror, the liar is asked once per download, not once per pass.
    const refused = await nodeServer((_req, res) => res.writeHead(503).end());
    const before = liar.accessLog().length;
    const failed = join(temp('dl'), 'b.bin');
    await assert.rejects(
      downloadArtifact({
        ...target,
        mirrors: [liar.url, refused],
        dest: failed,
        counters,
        passes: 3,
        backoffMs: 1,
      }),
      (error: unknown) => error instanceof UpdateError && error.code === 'DOWNLOAD_FAILED',
    );
    assert.equal(liar.accessLog().length - before, 1);
    assert.equal(counters.get(liar.url).hash, 2);
    assert.equal(counters.get(refused).error, 3);
    assert.equal(existsSync(`${failed}.part`), false, 'the wrong bytes are gone');
    assert.equal(existsSync(failed), false);
    await assert.rejects(
      downloadArtifact({ ...target, mirrors: [liar.url], dest: failed }),
      (error: unknown) => error instanceof UpdateError && error.code === 'HASH_MISMATCH',
    );
  });

  it('leaves a mirror that stalls for the next one', async () => {
    const staller = await nodeServer(() => {
      // never answers
    });
    const counters = new MirrorCounters();
    const dest = join(temp('dl'), 'a.bin');
    const result = await downloadArtifact({
      ...target,
      mirrors: [staller, cdn.url],
      dest,
      counters,
      idleTimeoutMs: 300,
    });
    assert.equal(result.mirror, cdn.url);
    assert.deepEqual(counters.get(staller), { error: 0, timeout: 1, hash: 0 });
  });

  it('downloads over HTTPS from a mirror whose certificate chains to the given CA only', async () => {
    const pki = await startTestPki();
    const tlsCdn = await startNginxCache({ origin: cdn.url, dir: temp('dl-tls'), tls: pki.server });
    servers.push(tlsCdn);
    const counters = new MirrorCounters();
    await assert.rejects(
      downloadArtifact({
        ...target,
        mirrors: [tlsCdn.url],
        dest: join(temp('dl'), 'x'),
        counters,
        passes: 1,
      }),
      (error: unknown) => error instanceof UpdateError && error.code === 'DOWNLOAD_FAILED',
    );
    assert.equal(counters.get(tlsCdn.url).error, 1, 'an untrusted certificate is an error of that mirror');
    const dest = join(temp('dl'), 'a.bin');
    const result = await downloadArtifact({
      ...target,
      mirrors: [tlsCdn.url],
      dest,
      ca: readFileSync(pki.caFile),
    });
    assert.equal(result.mirror, tlsCdn.url);
    assert.equal(sha256(readFileSync(dest)), sha);
  });

  it('starts after a random delay within the spread, and an abort ends the wait', async () => {
    for (const u of [0, 0.25, 0.5, 0.999_999]) {
      const delay = spreadDelay(60_000, () => u);
      assert.ok(delay >= 0 && delay < 60_000, `${delay} within [0, 60000)`);
      assert.equal(delay, Math.floor(u * 60_000));
    }
    for (let i = 0; i < 1000; i++) {
      const delay = spreadDelay(30_000);
      assert.ok(delay >= 0 && delay < 30_000);
    }
    assert.equal(spreadDelay(0), 0);
    assert.throws(() => spreadDelay(-1), /spreadMs must be/);
    const dest = join(temp('dl'), 'a.bin');
    const result = await downloadArtifact({
      ...target,
      mirrors: [cdn.url],
      dest,
      spreadMs: 200,
      random: () => 0.5,
    });
    assert.equal(result.delayMs, 100);

    const stop = new AbortController();
    const waiting = abortableDelay(3_600_000, stop.signal);
    stop.abort(new Error('stopped'));
    await assert.rejects(waiting, /stopped/);
    const agent = new AbortController();
    const herd = downloadArtifact({
      ...target,
      mirrors: [cdn.url],
      dest: join(temp('dl'), 'b.bin'),
      spreadMs: 3_600_000,
      random: () => 0.9,
      signal: agent.signal,
    });
    agent.abort(new Error('agent stopping'));
    await assert.rejects(herd, /agent stopping/);
  });
});
