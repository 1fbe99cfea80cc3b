/**
 * The S3 store against a real S3-compatible server (S3Proxy, provisioned by infra/provision.sh,
 * started on a free port): the shared ObjectStore contract, a bucket per test. Multipart parts of
 * 5 MiB (S3's minimum) so the contract's 8 MB bodies go up in several parts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type S3ProxyServer, startS3Proxy } from '../infra/mod.ts';
import { objectStoreContract, uniqueName } from './object-store.case.ts';
import { openObjectStore } from './open-store.ts';
import { S3ObjectStore } from './s3-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'dh-s3proxy-data-'));
let server: S3ProxyServer;
before(async () => {
  server = await startS3Proxy({ dir });
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function freshStore() {
  const url = await server.createBucket(uniqueName());
  return openObjectStore(url, { credentials: server.credentials, partSize: 5 * 1024 * 1024 });
}

objectStoreContract('S3 (S3Proxy)', freshStore);

describe('the S3 store', () => {
  test('s3:// URLs: path style for S3Proxy, virtual-hosted by default (Aliyun OSS)', async () => {
    await using proxy = await freshStore();
    assert.ok(proxy instanceof S3ObjectStore);
    assert.equal(await proxy.client.config.forcePathStyle, true);
    await using oss = await openObjectStore(
      's3://my-bucket?endpoint=https://oss-cn-hangzhou.aliyuncs.com&region=oss-cn-hangzhou',
      { credentials: { accessKeyId: 'a', secretAccessKey: 'b' } },
    );
    assert.ok(oss instanceof S3ObjectStore);
    assert.equal(oss.bucket, 'my-bucket');
    assert.equal(await oss.client.config.forcePathStyle, false);
    assert.equal(await oss.client.config.region(), 'oss-cn-hangzhou');
  });

  test('wrong credentials are refused by the server (403), not taken as a missing object', async () => {
    const url = await server.createBucket(uniqueName());
    await using store = await openObjectStore(url, {
      credentials: { accessKeyId: server.credentials.accessKeyId, secretAccessKey: 'wrong' },
    });
    await assert.rejects(
      store.head('uploads/x'),
      (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode === 403,
    );
  });

  test('an aborted multipart upload leaves no parts on the server', async () => {
    await using store = await freshStore();
    assert.ok(store instanceof S3ObjectStore);
    async function* failing() {
      for (let i = 0; i < 3; i++) yield Buffer.alloc(5 * 1024 * 1024, i);
      throw new Error('cut');
    }
    await assert.rejects(store.put('uploads/big', failing()), /cut/);
    const { ListMultipartUploadsCommand } = await import('@aws-sdk/client-s3');
    const out = await store.client.send(new ListMultipartUploadsCommand({ Bucket: store.bucket }));
    assert.deepEqual(out.Uploads ?? [], []);
  });
});
