/**
 * An object store from a URL, the form settings and flags carry (`--object-store`):
 *
 * - `file:///abs/dir` — the filesystem store in that folder (created when missing).
 * - `s3://<bucket>?endpoint=<url>&region=<region>&forcePathStyle=1` — S3 or a compatible service.
 *   No endpoint: AWS S3 in `region`. `forcePathStyle=1` puts the bucket in the path
 *   (`http://host/bucket/key`: S3Proxy, MinIO, SeaweedFS on a bare host:port); without it the
 *   bucket is in the host name (`https://bucket.host/key`, virtual-hosted style), which Aliyun OSS
 *   requires: `s3://my-bucket?endpoint=https://oss-cn-hangzhou.aliyuncs.com&region=oss-cn-hangzhou`.
 *   Credentials are never in the URL (it is logged): `options.credentials`, else the SDK's chain
 *   (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, profiles, instance roles).
 */
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ObjectStoreError } from './errors.ts';
import { FsObjectStore } from './fs-store.ts';
import type { ObjectStore } from './object-store.ts';
import { S3ObjectStore, type S3StoreOptions } from './s3-store.ts';

export interface OpenObjectStoreOptions {
  /** For `s3://`: the access key (default: the SDK's credential chain). */
  readonly credentials?: S3StoreOptions['credentials'];
  /** For `s3://`: multipart part size and parts in flight (defaults 8 MiB, 2). */
  readonly partSize?: number;
  readonly queueSize?: number;
}

const S3_PARAMS = new Set(['endpoint', 'region', 'forcePathStyle']);

export async function openObjectStore(url: string, o: OpenObjectStoreOptions = {}): Promise<ObjectStore> {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (parsed?.protocol === 'file:') {
    let dir: string;
    try {
      dir = fileURLToPath(parsed);
    } catch (err) {
      throw invalid(url, (err as Error).message);
    }
    if (!isAbsolute(dir)) throw invalid(url, 'a file: URL names an absolute folder (file:///abs/dir)');
    return await FsObjectStore.open(dir);
  }
  if (parsed?.protocol === 's3:') return new S3ObjectStore(s3Options(url, parsed, o));
  throw invalid(url, 'use file:///abs/dir or s3://bucket?endpoint=…&region=…&forcePathStyle=1');
}

function s3Options(url: string, parsed: URL, o: OpenObjectStoreOptions): S3StoreOptions {
  const bucket = decodeURIComponent(parsed.hostname);
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw invalid(url, `the bucket name must be 3..63 of [a-z0-9.-], got ${JSON.stringify(bucket)}`);
  if (parsed.username !== '' || parsed.password !== '')
    throw invalid(
      url,
      'credentials do not belong in the URL (it is logged): use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
    );
  if (parsed.pathname !== '' && parsed.pathname !== '/')
    throw invalid(url, 'the URL names a bucket only, no path');
  for (const name of parsed.searchParams.keys())
    if (!S3_PARAMS.has(name))
      throw invalid(url, `unknown parameter ${name} (known: ${[...S3_PARAMS].join(', ')})`);
  const endpoint = parsed.searchParams.get('endpoint') ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/]+\/?$/.test(endpoint))
    throw invalid(url, `endpoint must be http(s)://host[:port], got ${endpoint}`);
  const style = parsed.searchParams.get('forcePathStyle') ?? '0';
  if (!['0', '1', 'true', 'false'].includes(style))
    throw invalid(url, `forcePathStyle must be 0 or 1, got ${style}`);
  return {
    bucket,
    ...(endpoint === undefined ? {} : { endpoint }),
    region: parsed.searchParams.get('region') ?? 'us-east-1',
    forcePathStyle: style === '1' || style === 'true',
    ...(o.credentials === undefined ? {} : { credentials: o.credentials }),
    ...(o.partSize === undefined ? {} : { partSize: o.partSize }),
    ...(o.queueSize === undefined ? {} : { queueSize: o.queueSize }),
  };
}

function invalid(url: string, why: string): ObjectStoreError {
  return new ObjectStoreError('INVALID_URL', `Cannot open object store ${url}: ${why}`);
}
