/**
 * The object store on S3 or anything that speaks it: Aliyun OSS (virtual-hosted style, the
 * default), S3Proxy, MinIO, SeaweedFS (path style). Puts stream through lib-storage's `Upload`
 * (multipart: at most `queueSize` parts of `partSize` bytes in memory at once, whatever the object's
 * size; a failed or aborted upload is aborted on the server, leaving no parts behind). A move is a
 * server-side copy then a delete (S3 has no rename; CopyObject takes objects up to 5 GB).
 * Checksums are sent only where S3 requires them: the SDK's default CRC32 headers are refused by
 * OSS and by older S3-compatible servers.
 */

import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ObjectNotFoundError, RangeNotSatisfiableError } from './errors.ts';
import { toReadable } from './fs-store.ts';
import { checkKey, checkPrefix } from './keys.ts';
import type { ByteRange, ObjectBody, ObjectInfo, ObjectRead, ObjectStore } from './object-store.ts';

export interface S3StoreOptions {
  readonly bucket: string;
  /** `http(s)://host:port` of an S3-compatible service (none: AWS S3 in `region`). */
  readonly endpoint?: string;
  /** Default `us-east-1` (OSS: e.g. `oss-cn-hangzhou`). */
  readonly region?: string;
  /** `bucket` in the path, not the host name: S3Proxy, MinIO, SeaweedFS. OSS needs it off. */
  readonly forcePathStyle?: boolean;
  /** Default: the SDK's chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, …). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Bytes per multipart part (default 8 MiB; S3's minimum is 5 MiB). */
  readonly partSize?: number;
  /** Parts uploaded at once (default 2). */
  readonly queueSize?: number;
}

export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  readonly bucket: string;
  readonly client: S3Client;
  readonly #partSize: number;
  readonly #queueSize: number;

  constructor(options: S3StoreOptions) {
    this.bucket = options.bucket;
    this.#partSize = options.partSize ?? 8 * 1024 * 1024;
    this.#queueSize = options.queueSize ?? 2;
    const config: S3ClientConfig = {
      region: options.region ?? 'us-east-1',
      forcePathStyle: options.forcePathStyle ?? false,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    };
    this.client = new S3Client(config);
  }

  async put(
    key: string,
    body: ObjectBody,
    o: { contentType?: string; signal?: AbortSignal } = {},
  ): Promise<ObjectInfo> {
    checkKey(key);
    let size = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        done(null, chunk);
      },
    });
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: counted,
        ...(o.contentType === undefined ? {} : { ContentType: o.contentType }),
      },
      partSize: this.#partSize,
      queueSize: this.#queueSize,
      leavePartsOnError: false,
    });
    // The body feeds the upload; either failing fails both. A failed body (or `signal`) destroys
    // the stream the upload reads, and the upload then aborts itself on the server before `done`
    // rejects (Upload.abort() would reject at once and abort the server's upload only later).
    const uploaded = upload.done().catch((err: unknown) => {
      counted.destroy(err instanceof Error ? err : new Error(String(err)));
      throw err;
    });
    const fed = pipeline(toReadable(body), counted, o.signal === undefined ? {} : { signal: o.signal });
    const [feeding, uploading] = await Promise.allSettled([fed, uploaded]);
    if (feeding.status === 'rejected') throw feeding.reason;
    if (uploading.status === 'rejected') throw uploading.reason;
    return { key, size, ...(o.contentType === undefined ? {} : { contentType: o.contentType }) };
  }

  async get(key: string, o: { range?: ByteRange; signal?: AbortSignal } = {}): Promise<ObjectRead> {
    checkKey(key);
    const range = o.range;
    const header =
      range === undefined ? undefined : `bytes=${range.start}-${range.end === undefined ? '' : range.end}`;
    if (range !== undefined && (!Number.isSafeInteger(range.start) || range.start < 0))
      throw new RangeNotSatisfiableError(key, range.start, (await this.head(key))?.size ?? 0);
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          ...(header === undefined ? {} : { Range: header }),
        }),
        o.signal === undefined ? {} : { abortSignal: o.signal },
      );
      if (out.Body === undefined) throw new Error(`S3 answered GET ${key} without a body`);
      const body = out.Body.transformToWebStream() as ReadableStream<Uint8Array>;
      const total = /\/(\d+)$/.exec(out.ContentRange ?? '')?.[1];
      const size = total === undefined ? Number(out.ContentLength ?? 0) : Number(total);
      const info = { key, size, ...(out.ContentType === undefined ? {} : { contentType: out.ContentType }) };
      if (range === undefined) return { info, body };
      const [, start, end] = /bytes (\d+)-(\d+)/.exec(out.ContentRange ?? '') ?? [];
      // A server that ignored the range (200 with the whole object): the whole object is the range.
      return { info, body, range: { start: Number(start ?? 0), end: Number(end ?? size - 1) } };
    } catch (err) {
      if (statusOf(err) === 404) throw new ObjectNotFoundError(key, { cause: err });
      if (statusOf(err) === 416 && range !== undefined) {
        const info = await this.head(key);
        if (info === undefined) throw new ObjectNotFoundError(key, { cause: err });
        throw new RangeNotSatisfiableError(key, range.start, info.size);
      }
      throw err;
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    checkKey(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        key,
        size: Number(out.ContentLength ?? 0),
        ...(out.ContentType === undefined ? {} : { contentType: out.ContentType }),
      };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async move(from: string, to: string): Promise<void> {
    checkKey(from);
    checkKey(to);
    if (from === to) {
      if ((await this.head(from)) === undefined) throw new ObjectNotFoundError(from);
      return;
    }
    try {
      await this.client.send(
        new CopyObjectCommand({ Bucket: this.bucket, Key: to, CopySource: `${this.bucket}/${from}` }),
      );
    } catch (err) {
      if (statusOf(err) === 404) throw new ObjectNotFoundError(from, { cause: err });
      throw err;
    }
    await this.delete(from);
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    checkPrefix(prefix);
    let token: string | undefined;
    do {
      const out = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      // Folder markers (`a/b/`, which S3Proxy's filesystem backend lists) are no objects.
      for (const item of out.Contents ?? [])
        if (item.Key !== undefined && !item.Key.endsWith('/'))
          yield { key: item.Key, size: Number(item.Size ?? 0) };
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.client.destroy();
  }
}

/** The HTTP status of an S3 error (NoSuchKey, NotFound, InvalidRange, …), if it has one. */
function statusOf(err: unknown): number | undefined {
  const meta = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata;
  const name = (err as { name?: string } | undefined)?.name;
  if (name === 'NoSuchKey' || name === 'NotFound') return 404;
  return meta?.httpStatusCode;
}
