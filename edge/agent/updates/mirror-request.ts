/**
 * One request of the downloader (download.ts) to one mirror: `GET <mirror><contentPath>` from
 * the part's size on (`Range: bytes=N-`), the 206's Content-Range checked, the body appended to
 * the part file and hashed as it comes, a stall failing with TimeoutError and bytes the artifact
 * cannot have with WrongBytesError. The part file itself: opened (what is on disk hashed first)
 * and reset. Imports nothing of the hub.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import type { Agent as HttpAgent, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { request as httpsRequest } from 'node:https';
import { isDiskFull, UpdateError } from './errors.ts';

/** The file being written: its size and the hash of what it holds, and who sent those bytes. */
export interface Part {
  readonly file: string;
  size: number;
  /** The offset of the last request. */
  start: number;
  hash: Hash;
  /** Mirrors that sent its bytes (`disk`: an earlier run). */
  sources: Set<string>;
}

/** Drops the part's bytes: the next request starts from 0. */
export async function reset(part: Part): Promise<void> {
  await rm(part.file, { force: true });
  part.size = 0;
  part.start = 0;
  part.hash = createHash('sha256');
  part.sources = new Set();
}

/** The part on disk, hashed (a part longer than the artifact is dropped). */
export async function openPart(file: string, length: number): Promise<Part> {
  const hash = createHash('sha256');
  const size = await stat(file).then(
    (s) => s.size,
    () => 0,
  );
  if (size > length) {
    await rm(file, { force: true });
    return { file, size: 0, start: 0, hash, sources: new Set() };
  }
  if (size > 0) for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return { file, size, start: size, hash, sources: new Set(size > 0 ? ['disk'] : []) };
}

export class TimeoutError extends Error {}
/** A mirror sent bytes the artifact cannot have (more than its length, a range not asked for). */
export class WrongBytesError extends Error {}

/** What one request needs: the artifact, the mirror, its HTTP(S) agents, a progress hook. */
export interface FetchContext {
  readonly contentPath: string;
  readonly length: number;
  readonly signal?: AbortSignal;
  /** No byte for this long fails the request with TimeoutError (default 30 s). */
  readonly idleTimeoutMs?: number;
  readonly mirror: string;
  readonly agents: { readonly http: HttpAgent; readonly https: HttpsAgent };
  readonly onChunk: () => void;
}

/** One request from `part.size` on, appended to the part; the bytes received. */
export async function fetchInto(part: Part, c: FetchContext): Promise<number> {
  const from = part.size;
  part.start = from;
  const url = new URL(c.contentPath, c.mirror.endsWith('/') ? c.mirror : `${c.mirror}/`);
  const res = await get(url, from, c);
  try {
    if (res.statusCode === 200 && from > 0) {
      // The mirror ignored the range: start over with its whole body.
      await reset(part);
    } else if (res.statusCode === 206) {
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers['content-range'] ?? '');
      if (range === null || Number(range[1]) !== from || (range[3] !== '*' && Number(range[3]) !== c.length))
        throw new WrongBytesError(
          `asked for bytes ${from}- of ${c.length}, got Content-Range ${res.headers['content-range'] ?? 'none'}`,
        );
    } else if (res.statusCode !== 200) {
      throw new Error(`HTTP ${res.statusCode}`);
    }
    part.sources.add(c.mirror);
    return await appendBody(part, res, c);
  } finally {
    res.destroy();
  }
}

async function appendBody(part: Part, res: IncomingMessage, c: FetchContext): Promise<number> {
  const handle = await open(part.file, part.size === 0 ? 'w' : 'a');
  let received = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      if (part.size + chunk.length > c.length)
        throw new WrongBytesError(`sent more than the artifact's ${c.length} bytes`);
      try {
        await handle.write(chunk);
      } catch (error) {
        if (isDiskFull(error))
          throw new UpdateError('DISK_FULL', `no space left writing ${part.file}`, { cause: error });
        throw error;
      }
      part.hash.update(chunk);
      part.size += chunk.length;
      received += chunk.length;
      c.onChunk();
    }
  } catch (error) {
    if (res.errored instanceof TimeoutError) throw res.errored;
    throw error;
  } finally {
    await handle.close();
  }
  return received;
}

/** The response's head (a stalled mirror fails with TimeoutError). */
function get(url: URL, from: number, c: FetchContext): Promise<IncomingMessage> {
  const idleMs = c.idleTimeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const https = url.protocol === 'https:';
    if (!https && url.protocol !== 'http:') return reject(new Error(`${url.protocol} is not http(s)`));
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    if (from > 0) headers.range = `bytes=${from}-`;
    const options = { headers, signal: c.signal, agent: https ? c.agents.https : c.agents.http };
    const req = https ? httpsRequest(url, options) : httpRequest(url, options);
    req.setTimeout(idleMs, () => {
      const error = new TimeoutError(`nothing for ${idleMs} ms`);
      reject(error);
      req.destroy(error);
    });
    req.once('error', reject);
    req.once('response', (res) => {
      res.setTimeout(idleMs, () => res.destroy(new TimeoutError(`nothing for ${idleMs} ms`)));
      resolve(res);
    });
    req.end();
  });
}
