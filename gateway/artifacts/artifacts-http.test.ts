/**
 * Artifacts over real HTTP: a 128 MB upload streamed through the gateway into the filesystem store
 * without being held in memory (the gateway's RSS grows by far less than the artifact; the client
 * runs in a process of its own, testdata/transfer-client.ts) and back
 * from the public origin; into a real S3-compatible server (S3Proxy), a multipart upload served
 * back by range, and a client that goes away mid-body, which leaves no object, no multipart
 * upload and no row behind. One database for the file (names differ).
 */
// Redis Cluster pass: once (what this tests is streaming uploads over HTTP into the object store; its Redis use is incidental).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { type S3ProxyServer, startS3Proxy, TS_NODE_ARGS, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { FsObjectStore, openObjectStore, S3ObjectStore } from '../../objects/mod.ts';
import { createApiKey } from '../auth.ts';
import { type Database, openDatabase } from '../db/database.ts';
import { artifacts as artifactsTable } from '../db/schema.ts';
import { createGateway, serveGateway } from '../gateway.ts';
import type { ArtifactRecord } from './mod.ts';

const t = useRedis();
const dir = mkdtempSync(join(tmpdir(), 'dh-artifacts-http-'));
let s3: S3ProxyServer;
let database: Database;
let key: string;
before(async () => {
  [s3, database] = await Promise.all([startS3Proxy({ dir: join(dir, 's3') }), openDatabase()]);
  key = (await createApiKey(database.db, { name: 'admin', scope: 'admin' })).key;
});
after(async () => {
  await s3?.stop();
  await database?.close();
  rmSync(dir, { recursive: true, force: true });
});

const MB = 1024 * 1024;
const execFileAsync = promisify(execFile);

/** `total` bytes in 64 KiB chunks of one pattern (the client holds 64 KiB at a time). */
function generated(total: number): { body: ReadableStream<Uint8Array>; sha256: string } {
  const chunk = new Uint8Array(64 * 1024).map((_, i) => (i * 31) % 251);
  const hash = createHash('sha256');
  for (let n = 0; n < total; n += chunk.length)
    hash.update(chunk.subarray(0, Math.min(chunk.length, total - n)));
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      const part = chunk.subarray(0, Math.min(chunk.length, total - sent));
      sent += part.length;
      controller.enqueue(part.slice());
    },
  });
  return { body, sha256: hash.digest('hex') };
}

const upload = (url: string, body: ReadableStream<Uint8Array>, sha256: string, method = 'POST') =>
  fetch(url, {
    method,
    headers: { authorization: `Bearer ${key}`, 'x-content-sha256': sha256 },
    body,
    duplex: 'half',
  } as RequestInit);

describe('artifacts over HTTP', { timeout: 120_000 }, () => {
  it('streams a 128 MB upload through without buffering it, and serves it back', async (test) => {
    await using objects = await FsObjectStore.open(join(dir, 'fs'));
    await using gateway = await createGateway({ database, bus: t.bus(t.keyspace(), t.connect()), objects });
    await using served = await serveGateway(gateway);
    const size = 128 * MB;
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 20);
    let out: { status: number; body: string; sha256: string; back: string };
    try {
      // The client in a process of its own: this process's memory is the gateway's.
      const { stdout } = await execFileAsync(
        process.execPath,
        [
          ...TS_NODE_ARGS,
          fileURLToPath(new URL('./testdata/transfer-client.ts', import.meta.url)),
          `${served.url}/v1/artifacts?kind=model&name=plates&version=1`,
          `${served.url}/v1/artifacts`,
          key,
          String(size),
        ],
        { encoding: 'utf8' },
      );
      out = JSON.parse(stdout) as typeof out;
    } finally {
      clearInterval(sampler);
    }
    assert.equal(out.status, 201, out.body);
    const record = JSON.parse(out.body) as ArtifactRecord;
    assert.equal(record.size, size);
    assert.equal(record.sha256, out.sha256);
    assert.equal(out.back, out.sha256, 'the bytes served back hash the same');
    const growth = rssPeak - rssBefore;
    test.diagnostic(
      `the gateway's RSS grew ${(growth / MB).toFixed(1)} MB while ${size / MB} MB went up and back`,
    );
    // 64 KiB chunks in flight, stream buffers and chunks not yet collected; the whole artifact
    // held anywhere would be 128 MB or more.
    assert.ok(growth < 80 * MB, `RSS grew ${Math.round(growth / MB)} MB for a ${size / MB} MB artifact`);
  });

  it('uploads into S3 in parts and serves the bytes back whole and by range', async () => {
    await using objects = await openObjectStore(await s3.createBucket('artifacts-parts'), {
      credentials: s3.credentials,
      partSize: 5 * MB,
    });
    await using gateway = await createGateway({ database, bus: t.bus(t.keyspace(), t.connect()), objects });
    await using served = await serveGateway(gateway);
    const size = 11 * MB + 3;
    const { body, sha256 } = generated(size);
    const res = await upload(
      `${served.url}/v1/artifacts/edge-package/elenet/3.0.0?hardware=rv1126`,
      body,
      sha256,
      'PUT',
    );
    assert.equal(res.status, 201, await res.clone().text());
    assert.equal((await objects.head(`artifacts/sha256/${sha256}`))?.size, size);
    const tail = await fetch(`${served.url}/v1/artifacts/${sha256}/content`, {
      headers: { range: `bytes=${size - 5}-` },
    });
    assert.equal(tail.status, 206);
    assert.equal(tail.headers.get('content-range'), `bytes ${size - 5}-${size - 1}/${size}`);
    assert.equal((await tail.arrayBuffer()).byteLength, 5);
    const whole = await fetch(`${served.url}/v1/artifacts/${sha256}/content`);
    assert.equal(
      createHash('sha256')
        .update(new Uint8Array(await whole.arrayBuffer()))
        .digest('hex'),
      sha256,
    );
  });

  it('a client that goes away mid-body leaves nothing behind (no object, no parts, no row)', async () => {
    await using objects = await openObjectStore(await s3.createBucket('artifacts-cut'), {
      credentials: s3.credentials,
      partSize: 5 * MB,
    });
    assert.ok(objects instanceof S3ObjectStore);
    await using gateway = await createGateway({ database, bus: t.bus(t.keyspace(), t.connect()), objects });
    await using served = await serveGateway(gateway);
    const rowsBefore = (await database.db.select().from(artifactsTable)).length;
    // Announces 20 MB, sends 12 (more than two parts), then drops the connection.
    await new Promise<void>((resolve) => {
      const req = request(new URL(`${served.url}/v1/artifacts?kind=model&name=cut&version=1`), {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-length': String(20 * MB) },
      });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      const chunk = Buffer.alloc(MB, 7);
      let sent = 0;
      const more = () => {
        while (sent < 12) {
          sent++;
          if (!req.write(chunk)) return void req.once('drain', more);
        }
        setImmediate(() => req.destroy());
      };
      more();
    });
    await waitFor(() => gateway.artifacts?.outcomes.get('TRUNCATED') === 1, {
      timeoutMs: 20_000,
      message: 'the cut upload counted as TRUNCATED',
    });
    const keys: string[] = [];
    for await (const info of objects.list('')) keys.push(info.key);
    assert.deepEqual(keys, []);
    const parts = await objects.client.send(new ListMultipartUploadsCommand({ Bucket: objects.bucket }));
    assert.deepEqual(parts.Uploads ?? [], []);
    assert.equal((await database.db.select().from(artifactsTable)).length, rowsBefore);
  });
});
