/**
 * The agent's artifact download through the CDN mirrors (docs/decisions/024-cdn.md): after a
 * random start delay within the rollout's spread, it streams `<mirror><contentPath>` into
 * `dest + '.part'`, hashing as it goes; after a cut it resumes with `Range: bytes=N-` (the part
 * already on disk is hashed first, so a restart of the agent resumes too); a mirror that errs or
 * stalls gives way to the next one in the edge's ranked list, and one that served wrong bytes
 * (SHA-256 not the signed one) is counted, skipped for this download and its bytes discarded.
 * The finished file is renamed to `dest` only once its hash is right. Imports nothing of the hub.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { type Logger, silentLogger } from '../logger.ts';
import { UpdateError } from './errors.ts';
import { MirrorCounters } from './mirror-counters.ts';
import { abortableDelay, spreadDelay } from './spread.ts';

export interface DownloadProgress {
  readonly bytes: number;
  readonly length: number;
  readonly mirror: string;
}

export interface DownloadOptions {
  /** Base URLs (`https://cdn-1.example:8443`), best first: the edge's ranking (rendezvous). */
  readonly mirrors: readonly string[];
  /** `/v1/artifacts/<sha256>/content` */
  readonly contentPath: string;
  /** The signed hash (hex) and length. */
  readonly sha256: string;
  readonly length: number;
  /** Where the verified file ends up; `dest + '.part'` while it downloads. */
  readonly dest: string;
  /** Start after a random delay in [0, spreadMs) (default 0): a wave does not hit the mirrors at once. */
  readonly spreadMs?: number;
  readonly signal?: AbortSignal;
  /** At most every 256 KiB and at the end. */
  readonly onProgress?: (progress: DownloadProgress) => void;
  /** The CA the mirrors' certificates must chain to (PEM; none: the system's). */
  readonly ca?: string | Buffer;
  /** A mirror that sends nothing for this long is left for the next (default 30 s). */
  readonly idleTimeoutMs?: number;
  /** Passes over the mirror list before giving up (default 3), `backoffMs × pass` apart (default 1 s). */
  readonly passes?: number;
  readonly backoffMs?: number;
  /** Failures per mirror, kept across downloads by the caller (default: this download's own). */
  readonly counters?: MirrorCounters;
  readonly logger?: Logger;
  /** Uniform in [0, 1) (default Math.random): the start delay's draw. */
  readonly random?: () => number;
}

export interface DownloadResult {
  /** The mirror that delivered the last bytes ('' when the part on disk was already whole). */
  readonly mirror: string;
  /** Bytes received over the network by this call. */
  readonly bytes: number;
  /** The offset the last request started at (0: one request from the start). */
  readonly resumedFrom: number;
  /** The start delay waited (ms). */
  readonly delayMs: number;
}

/** The file being written: its size and the hash of what it holds, and who sent those bytes. */
interface Part {
  readonly file: string;
  size: number;
  /** The offset of the last request. */
  start: number;
  hash: Hash;
  /** Mirrors that sent its bytes (`disk`: an earlier run). */
  sources: Set<string>;
}

const PROGRESS_STEP = 256 * 1024;

export async function downloadArtifact(o: DownloadOptions): Promise<DownloadResult> {
  const { mirrors, sha256, length, signal } = o;
  if (mirrors.length === 0) throw new UpdateError('DOWNLOAD_FAILED', 'no CDN mirror is configured');
  if (!/^[0-9a-f]{64}$/.test(sha256))
    throw new Error(`downloadArtifact: sha256 must be 64 hex digits, got ${sha256}`);
  const log = (o.logger ?? silentLogger).child({ component: 'download', sha256 });
  const counters = o.counters ?? new MirrorCounters();
  const delayMs = spreadDelay(o.spreadMs ?? 0, o.random);
  await abortableDelay(delayMs, signal);
  const part = await openPart(`${o.dest}.part`, length);
  const passes = o.passes ?? 3;
  const skipped = new Set<string>();
  const failures: string[] = [];
  let received = 0;
  let lastProgress = -PROGRESS_STEP;
  const progress = (mirror: string) => {
    if (part.size - lastProgress < PROGRESS_STEP && part.size < length) return;
    lastProgress = part.size;
    o.onProgress?.({ bytes: part.size, length, mirror });
  };
  const agents = {
    http: new HttpAgent({ keepAlive: false }),
    https: new HttpsAgent({ ca: o.ca, minVersion: 'TLSv1.2' }),
  };
  const attempt = async (mirror: string): Promise<'done' | 'next' | 'again'> => {
    if (part.size < length) {
      const from = part.size;
      try {
        received += await fetchInto(part, { ...o, mirror, agents, onChunk: () => progress(mirror) });
      } catch (error) {
        signal?.throwIfAborted();
        if (error instanceof UpdateError) throw error;
        failures.push(`${mirror}: ${(error as Error).message}`);
        if (error instanceof WrongBytesError) {
          log.warn({ mirror, from, err: error }, 'mirror served wrong bytes: skipped for this download');
          convict(mirror);
          await reset(part);
          return 'next';
        }
        const kind = error instanceof TimeoutError ? 'timeout' : 'error';
        counters.count(mirror, kind);
        log.warn({ mirror, from, at: part.size, kind, err: error }, 'mirror failed; trying the next');
        return 'next';
      }
      if (part.size < length) {
        counters.count(mirror, 'error');
        failures.push(`${mirror}: the body ended at ${part.size} of ${length} bytes`);
        return 'next';
      }
    }
    const digest = part.hash.copy().digest('hex');
    if (digest === sha256) return 'done';
    failures.push(`${mirror}: SHA-256 ${digest}, not ${sha256}`);
    // A part one mirror sent alone convicts it; one assembled from several (after a cut, or from
    // an earlier run) convicts nobody: it is fetched again whole, and a next mismatch names one.
    const sources = [...part.sources];
    await reset(part);
    if (sources.length === 1 && sources[0] === mirror) {
      log.warn({ mirror }, 'mirror served wrong bytes (SHA-256): skipped for this download');
      convict(mirror);
      return 'next';
    }
    log.warn({ mirror, sources }, 'wrong SHA-256 of a part from several sources: fetching it again whole');
    return 'again';
  };
  const convict = (mirror: string) => {
    skipped.add(mirror);
    counters.count(mirror, 'hash');
  };
  try {
    for (let pass = 0; pass < passes; pass++) {
      if (mirrors.every((m) => skipped.has(m))) break;
      if (pass > 0) await abortableDelay((o.backoffMs ?? 1000) * pass, signal);
      for (const mirror of mirrors) {
        if (skipped.has(mirror)) continue;
        let outcome = await attempt(mirror);
        if (outcome === 'again') outcome = await attempt(mirror);
        if (outcome !== 'done') continue;
        progress(mirror);
        await rename(part.file, o.dest);
        const by = received === 0 ? '' : mirror;
        log.info({ mirror: by, bytes: received, length }, 'artifact downloaded and its hash checked');
        return { mirror: by, bytes: received, resumedFrom: part.start, delayMs };
      }
    }
  } finally {
    agents.http.destroy();
    agents.https.destroy();
  }
  const allWrong = mirrors.every((m) => skipped.has(m));
  throw new UpdateError(
    allWrong ? 'HASH_MISMATCH' : 'DOWNLOAD_FAILED',
    `${o.contentPath}: no mirror delivered ${length} bytes with SHA-256 ${sha256} (${failures.slice(-6).join('; ')})`,
  );
}

/** Drops the part's bytes: the next request starts from 0. */
async function reset(part: Part): Promise<void> {
  await rm(part.file, { force: true });
  part.size = 0;
  part.start = 0;
  part.hash = createHash('sha256');
  part.sources = new Set();
}

/** The part on disk, hashed (a part longer than the artifact is dropped). */
async function openPart(file: string, length: number): Promise<Part> {
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

class TimeoutError extends Error {}
/** A mirror sent bytes the artifact cannot have (more than its length, a range not asked for). */
class WrongBytesError extends Error {}

interface FetchContext extends DownloadOptions {
  readonly mirror: string;
  readonly agents: { readonly http: HttpAgent; readonly https: HttpsAgent };
  readonly onChunk: () => void;
}

/** One request from `part.size` on, appended to the part; the bytes received. */
async function fetchInto(part: Part, c: FetchContext): Promise<number> {
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
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOSPC' || code === 'EDQUOT')
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
