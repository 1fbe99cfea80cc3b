/**
 * A plain downloader with the contract of download.ts (Range resume from `<dest>.part`, hash checked
 * before the rename), for the updater's in-process tests: they test the install, not the CDN.
 */
import { createHash } from 'node:crypto';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { UpdateError } from '../errors.ts';
import type { Downloader } from '../fetch-target.ts';

export const plainDownload: Downloader = async (o) => {
  const part = `${o.dest}.part`;
  const resumedFrom = (await stat(part).catch(() => undefined))?.size ?? 0;
  const response = await fetch(`${o.mirrors[0]}${o.contentPath}`, {
    headers: resumedFrom > 0 ? { range: `bytes=${resumedFrom}-` } : {},
    ...(o.signal ? { signal: o.signal } : {}),
  });
  if (!response.ok) throw new UpdateError('DOWNLOAD_FAILED', `HTTP ${response.status}`);
  const body = new Uint8Array(await response.arrayBuffer());
  await writeFile(part, body, { flag: resumedFrom > 0 ? 'a' : 'w' });
  o.onProgress?.({ bytes: resumedFrom + body.byteLength, length: o.length });
  const sha = createHash('sha256')
    .update(await readFile(part))
    .digest('hex');
  if (sha !== o.sha256) throw new UpdateError('HASH_MISMATCH', `got ${sha}`);
  await rename(part, o.dest);
  return { bytes: body.byteLength, resumedFrom };
};
