/**
 * downloadClip against a real HTTP server on loopback: a URL refused as expired (403) is asked
 * for again, a body cut short of its Content-Length is tried again, the SHA-256 is the bytes',
 * and tries past the limit end in a retryable DOWNLOAD_FAILED.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../actors/mod.ts';
import { ClipError } from './clip-error.ts';
import { downloadClip } from './download-clip.ts';

const BODY = Buffer.from('not really an mp4, but bytes all the same '.repeat(2000));
let server: Server;
let base = '';
let dir = '';
/** Paths asked, in order. */
const asked: string[] = [];
/** Hits of /cut-once so far: only the first is cut. */
let cutOnce = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dh-download-'));
  server = createServer((req, res) => {
    asked.push(req.url ?? '');
    if (req.url === '/stale') return void res.writeHead(403).end('<Error>Request has expired.</Error>');
    res.writeHead(200, { 'content-length': String(BODY.length) });
    if (req.url === '/cut' || (req.url === '/cut-once' && !cutOnce++)) {
      res.write(BODY.subarray(0, 1000));
      return void setImmediate(() => res.destroy());
    }
    res.end(BODY);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

/** A url() that hands out `paths` in turn (the last one again when they run out), valid an hour. */
function urls(...paths: string[]) {
  let i = 0;
  const calls = { n: 0 };
  const url = async () => {
    calls.n++;
    const path = paths[Math.min(i++, paths.length - 1)]!;
    return { url: `${base}${path}`, expiresAt: Date.now() + 3_600_000 };
  };
  return { url, calls };
}

describe('downloadClip', () => {
  test('a URL refused as expired is asked for again; the file and its SHA-256 are the bytes', async () => {
    const { url, calls } = urls('/stale', '/good');
    const why: string[] = [];
    const dest = join(dir, 'a.mp4');
    const file = await downloadClip({ url, dest, log: silentLogger, onRetry: (w) => void why.push(w) });
    assert.equal(calls.n, 2, 'a second URL was asked for');
    assert.deepEqual(why, ['expired']);
    assert.equal(file.bytes, BODY.length);
    assert.equal(file.sha256, createHash('sha256').update(BODY).digest('hex'));
    assert.deepEqual(await readFile(dest), BODY);
  });

  test('a download cut short is tried again with the same URL', async () => {
    asked.length = 0;
    const { url, calls } = urls('/cut-once');
    const why: string[] = [];
    const dest = join(dir, 'b.mp4');
    const file = await downloadClip({ url, dest, log: silentLogger, onRetry: (w) => void why.push(w) });
    assert.deepEqual(why, ['cut']);
    assert.equal(calls.n, 1, 'the URL, still valid, was not asked for again');
    assert.deepEqual(asked, ['/cut-once', '/cut-once']);
    assert.equal(file.bytes, BODY.length);
    assert.deepEqual(await readFile(dest), BODY, 'the file is the whole body, not the cut try’s bytes');
  });

  test('tries past the limit: a retryable DOWNLOAD_FAILED naming the last failure', async () => {
    const { url } = urls('/cut');
    await assert.rejects(
      downloadClip({ url, dest: join(dir, 'c.mp4'), attempts: 2, log: silentLogger }),
      (error: unknown) =>
        error instanceof ClipError &&
        error.code === 'DOWNLOAD_FAILED' &&
        error.retryable &&
        /2 times; last: .*(broke off|terminated|aborted|socket|other side closed)/i.test(error.message),
    );
  });
});
