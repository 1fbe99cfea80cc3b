/**
 * One target from the hub's command to a verified file on disk: its hash and length checked
 * against the signed TUF metadata (when the agent has a metadata URL), free space checked, the
 * download (resumable: a restart picks up `<dest>.part`) through the CDN mirrors, then the whole
 * file hashed again before it counts as verified.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { UpdateTarget } from '../../protocol/mod.ts';
import type { DownloadOptions, DownloadProgress, DownloadResult } from './download.ts';
import { UpdateError } from './errors.ts';
import { ensureFree } from './install.ts';

/** The downloader's contract (download.ts, `downloadArtifact`), the part the updater uses. */
export type Downloader = (
  o: Pick<
    DownloadOptions,
    'mirrors' | 'contentPath' | 'sha256' | 'length' | 'dest' | 'spreadMs' | 'signal'
  > & {
    readonly onProgress?: (p: Pick<DownloadProgress, 'bytes' | 'length'>) => void;
  },
) => Promise<Pick<DownloadResult, 'bytes' | 'resumedFrom'>>;

/** The TUF client's contract (tuf-client.ts, `openTufClient`), the part the updater uses. */
export interface TrustedTargets {
  refresh(): Promise<void>;
  target(path: string): Promise<{ readonly path: string; readonly length: number; readonly sha256: string }>;
  close?(): void;
}

export interface FetchOptions {
  readonly dir: string;
  readonly download: Downloader;
  readonly mirrors: readonly string[];
  /** Signed metadata; undefined: the command's own hash is trusted (no metadata URL configured). */
  readonly trust: TrustedTargets | undefined;
  readonly spreadMs: number;
  readonly signal: AbortSignal;
  readonly onProgress: (percent: number) => void;
}

/** Where a target's verified file lives. */
export const downloadPath = (dir: string, t: UpdateTarget): string => join(dir, 'downloads', t.sha256);

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Throws HASH_MISMATCH unless the command's hash and length of `t` are the signed ones. */
async function checkSigned(t: UpdateTarget, trust: TrustedTargets | undefined): Promise<void> {
  if (trust === undefined) return;
  const s = await trust.target(t.path);
  if (s.sha256 !== t.sha256 || s.length !== t.length)
    throw new UpdateError(
      'HASH_MISMATCH',
      `the command's ${t.path} (sha256 ${t.sha256.slice(0, 12)}…, ${t.length} B) is not the signed one (${s.sha256.slice(0, 12)}…, ${s.length} B)`,
    );
}

/** Downloads `target` unless it is already on disk; resolves once the file is there. */
export async function downloadTarget(target: UpdateTarget, o: FetchOptions): Promise<string> {
  await checkSigned(target, o.trust);
  const dest = downloadPath(o.dir, target);
  await mkdir(join(o.dir, 'downloads'), { recursive: true });
  if ((await stat(dest).catch(() => undefined))?.size === target.length) return dest;
  const part = (await stat(`${dest}.part`).catch(() => undefined))?.size ?? 0;
  await ensureFree(o.dir, target.length - part, `downloading ${target.path}`);
  if (o.mirrors.length === 0)
    throw new UpdateError('DOWNLOAD_FAILED', `no CDN mirror configured for ${target.path}`);
  await o.download({
    mirrors: o.mirrors,
    contentPath: `/v1/artifacts/${target.sha256}/content`,
    sha256: target.sha256,
    length: target.length,
    dest,
    spreadMs: o.spreadMs,
    signal: o.signal,
    onProgress: (p) => o.onProgress(p.length > 0 ? (p.bytes / p.length) * 100 : 100),
  });
  return dest;
}

/** Hashes the downloaded file again: `verified` means its bytes are the signed ones. */
export async function verifyTarget(t: UpdateTarget, o: { dir: string }): Promise<void> {
  const file = downloadPath(o.dir, t);
  const actual = await sha256Of(file);
  if (actual !== t.sha256) {
    await rm(file, { force: true });
    throw new UpdateError('HASH_MISMATCH', `${t.path} on disk hashes to ${actual}, not ${t.sha256}`);
  }
}
