/**
 * The agent's TUF client: tuf-js's Updater over the gateway's `/v1/tuf/metadata`, the trusted
 * metadata kept in `<dataDir>/tuf` (so rollback protection survives restarts). The first root
 * comes from a file provisioned on the device (`rootFile`), or — trust on first use — the
 * gateway's `1.root.json` fetched over HTTPS checked against the fleet CA. Every refusal is an
 * UpdateError: TUF_EXPIRED, TUF_ROLLBACK, TUF_SIGNATURE, TUF_MIXED, TUF_UNKNOWN_TARGET (or
 * DOWNLOAD_FAILED when no metadata arrived). Imports nothing of the hub.
 */
import { access, copyFile, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Updater } from 'tuf-js';
import { UpdateError } from './errors.ts';
import { toUpdateError } from './tuf-errors.ts';
import { MetadataFetcher } from './tuf-fetcher.ts';

export interface TufClientOptions {
  /** Where the metadata is served, e.g. `https://gw:8443/v1/tuf/metadata`. */
  readonly metadataUrl: string;
  /** The agent's data folder; the trusted metadata goes to `<dataDir>/tuf`. */
  readonly dataDir: string;
  /** The root provisioned on the device (its first trusted root.json). */
  readonly rootFile?: string;
  /** The fleet CA (PEM) the gateway's certificate must chain to. */
  readonly ca?: string | Buffer;
  /** Per metadata request (default 30 s). */
  readonly timeoutMs?: number;
  /** How often a refresh whose metadata request got no answer is tried again (default 3). */
  readonly retries?: number;
  /** The pause before the first retry, growing with each (default 1000 ms, jittered). */
  readonly retryDelayMs?: number;
  /** Told of each retry (after a refresh got no metadata), e.g. to count them. */
  readonly onRetry?: (error: UpdateError, attempt: number) => void;
}

/** A signed target as the agent needs it to download and verify. */
export interface TufTarget {
  readonly path: string;
  readonly length: number;
  readonly sha256: string;
  readonly custom: Readonly<Record<string, unknown>>;
}

export interface TufClient {
  /** Fetches and verifies timestamp, snapshot and targets (and newer roots); throws UpdateError. */
  refresh(): Promise<void>;
  /** The target at `path` in the metadata of the last refresh (refreshing first if none). */
  target(path: string): Promise<TufTarget>;
  /** Closes the kept-alive connections. */
  close(): void;
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

export async function openTufClient(options: TufClientOptions): Promise<TufClient> {
  const { metadataUrl, dataDir, retries = 3, retryDelayMs = 1000 } = options;
  const base = new URL(metadataUrl);
  if (base.protocol !== 'https:' && base.protocol !== 'http:')
    throw new UpdateError('DOWNLOAD_FAILED', `TUF: metadataUrl must be http(s), got ${metadataUrl}`);
  const metadataDir = join(dataDir, 'tuf');
  await mkdir(metadataDir, { recursive: true });
  const fetcher = new MetadataFetcher({
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  await ensureRoot({ metadataDir, base, rootFile: options.rootFile, fetcher });
  let updater: Updater | undefined;

  const refreshOnce = async () => {
    try {
      // A new Updater per refresh: tuf-js fixes its reference time (for expiry) when constructed.
      const next = new Updater({
        metadataDir,
        metadataBaseUrl: base.href,
        fetcher,
        config: { fetchRetries: 0 },
      });
      await next.refresh();
      updater = next;
    } catch (error) {
      throw toUpdateError(error, 'refresh');
    }
  };
  // A metadata request that got no answer (a dropped kept-alive connection, a timeout, a 5xx) is
  // asked again after a jittered pause; a refusal (signature, expiry, rollback, mix) never is.
  const refresh = async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await refreshOnce();
      } catch (error) {
        if (!(error instanceof UpdateError) || error.code !== 'DOWNLOAD_FAILED' || attempt > retries)
          throw error;
        options.onRetry?.(error, attempt);
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs * attempt * (0.5 + Math.random())));
      }
    }
  };

  return {
    refresh,
    async target(path) {
      if (updater === undefined) await refresh();
      let info: Awaited<ReturnType<Updater['getTargetInfo']>>;
      try {
        info = await (updater as Updater).getTargetInfo(path);
      } catch (error) {
        throw toUpdateError(error, `target ${path}`);
      }
      const sha256 = info?.hashes.sha256;
      if (info === undefined || sha256 === undefined)
        throw new UpdateError('TUF_UNKNOWN_TARGET', `TUF: the signed targets do not name ${path}`);
      return { path: info.path, length: info.length, sha256, custom: info.custom };
    },
    close: () => fetcher.close(),
  };
}

/** `root.json` in the metadata folder: kept, else the provisioned file, else trust on first use. */
async function ensureRoot(o: {
  metadataDir: string;
  base: URL;
  rootFile: string | undefined;
  fetcher: MetadataFetcher;
}): Promise<void> {
  const trusted = join(o.metadataDir, 'root.json');
  if (await exists(trusted)) return;
  if (o.rootFile !== undefined) {
    await copyFile(o.rootFile, `${trusted}.tmp`);
    await rename(`${trusted}.tmp`, trusted);
    return;
  }
  // Trust on first use: only over HTTPS (the fleet CA vouches for the gateway), or on the box itself.
  if (o.base.protocol !== 'https:' && !LOOPBACK.test(o.base.hostname))
    throw new UpdateError(
      'TUF_SIGNATURE',
      `TUF: no trusted root; fetching the first one needs https://, got ${o.base.origin} (provision rootFile instead)`,
    );
  let body: Buffer;
  try {
    body = await o.fetcher.downloadBytes(new URL('1.root.json', withSlash(o.base)).href, 512 * 1024);
    const parsed = JSON.parse(body.toString('utf8')) as { signed?: { _type?: unknown; version?: unknown } };
    if (parsed.signed?._type !== 'root' || parsed.signed.version !== 1)
      throw new Error('1.root.json is not version 1 of a root');
  } catch (error) {
    throw toUpdateError(error, 'first root');
  }
  await writeFile(`${trusted}.tmp`, body);
  await rename(`${trusted}.tmp`, trusted);
}

const withSlash = (u: URL) => new URL(u.href.endsWith('/') ? u.href : `${u.href}/`);

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
