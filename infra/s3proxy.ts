/**
 * S3Proxy (github.com/gaul/s3proxy), the jar-with-dependencies `infra/provision.sh` fetches from
 * Maven Central into the cache: a real S3-compatible server on loopback for the object store's
 * tests, the demo's cluster and benchmarks (filesystem backend in `dir`, AWS signatures v2 or v4
 * with one access key, path-style bucket URLs), on the JVM Kafka uses. It starts in about a second.
 * docs/decisions/022-object-store.md says why S3Proxy rather than SeaweedFS.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './free-port.ts';
import { type ServerProcess, startServerProcess, withControls } from './server-process.ts';

/** The S3Proxy version: infra/provision.sh reads it from this line and fetches that jar. */
export const S3PROXY_VERSION = '2.9.0';

/** The path of the S3Proxy jar; throws with what to run when it is not provisioned yet. */
export function s3proxyJar(): string {
  const cache = process.env.DEVICEHUB_CACHE ?? join(homedir(), '.cache', 'devicehub');
  const path = join(cache, `s3proxy-${S3PROXY_VERSION}`, 's3proxy.jar');
  if (!existsSync(path))
    throw new Error(
      `Cannot find S3Proxy ${S3PROXY_VERSION} at ${path}. Run \`sh infra/provision.sh\` (it fetches it from Maven Central).`,
    );
  return path;
}

export interface S3ProxyOptions {
  /** Where the buckets and objects are kept (a folder per bucket); created when missing. */
  readonly dir: string;
  /** Default: a free port. */
  readonly port?: number;
  /** The access key (default: random ones). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export interface S3ProxyServer extends ServerProcess, AsyncDisposable {
  /** `http://127.0.0.1:<port>`: the S3 endpoint (path-style). */
  readonly endpoint: string;
  readonly port: number;
  readonly dir: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Creates a bucket (idempotent) and returns its object-store URL (`s3://<bucket>?endpoint=…`). */
  createBucket(bucket: string): Promise<string>;
  /** The object-store URL of a bucket (`openObjectStore`, `--object-store`). */
  storeUrl(bucket: string): string;
}

export async function startS3Proxy(options: S3ProxyOptions): Promise<S3ProxyServer> {
  const jar = s3proxyJar();
  mkdirSync(options.dir, { recursive: true });
  const port = options.port ?? (await freePort());
  const credentials = options.credentials ?? {
    accessKeyId: `dh${randomBytes(6).toString('hex')}`,
    secretAccessKey: randomBytes(24).toString('base64url'),
  };
  const confDir = mkdtempSync(join(tmpdir(), 'dh-s3proxy-'));
  const properties = join(confDir, 's3proxy.properties');
  writeFileSync(
    properties,
    [
      `s3proxy.endpoint=http://127.0.0.1:${port}`,
      's3proxy.authorization=aws-v2-or-v4',
      `s3proxy.identity=${credentials.accessKeyId}`,
      `s3proxy.credential=${credentials.secretAccessKey}`,
      'jclouds.provider=filesystem',
      `jclouds.filesystem.basedir=${options.dir}`,
      '',
    ].join('\n'),
  );
  const proc = await startServerProcess({
    name: 's3proxy',
    port,
    timeoutMs: 30_000,
    spawnServer: () =>
      spawn('java', ['-Xmx256m', '-XX:+UseSerialGC', '-jar', jar, '--properties', properties], {
        stdio: 'ignore',
      }),
    describeExit: (code) => `s3proxy exited with ${code}; its properties are ${properties}`,
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const region = 'us-east-1';
  const storeUrl = (bucket: string) =>
    `s3://${bucket}?endpoint=${encodeURIComponent(endpoint)}&region=${region}&forcePathStyle=1`;
  const fields = {
    endpoint,
    port,
    dir: options.dir,
    region,
    credentials,
    storeUrl,
    async createBucket(bucket: string) {
      const client = new S3Client({ endpoint, region, forcePathStyle: true, credentials });
      try {
        await client.send(new CreateBucketCommand({ Bucket: bucket })).catch((err: unknown) => {
          const name = (err as { name?: string }).name;
          if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
        });
      } finally {
        client.destroy();
      }
      return storeUrl(bucket);
    },
  };
  return withControls(proc, fields);
}
