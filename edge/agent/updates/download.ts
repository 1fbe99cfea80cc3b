/**
 * The agent's artifact download through the CDN mirrors (docs/decisions/024-cdn.md): after a
 * random start delay within the rollout's spread, it streams `<mirror><contentPath>` into
 * `dest + '.part'`, hashing as it goes; after a cut it resumes with `Range: bytes=N-` (the part
 * already on disk is hashed first, so a restart of the agent resumes too); a mirror that errs or
 * stalls gives way to the next one in the edge's ranked list, and one that served wrong bytes
 * (SHA-256 not the signed one) is counted, skipped for this download and its bytes discarded.
 * The finished file is renamed to `dest` only once its hash is right. Imports nothing of the hub.
 */
import { rename } from 'node:fs/promises';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { type Logger, silentLogger } from '../logger.ts';
import { UpdateError } from './errors.ts';
import { MirrorCounters } from './mirror-counters.ts';
import { fetchInto, openPart, type Part, reset, TimeoutError, WrongBytesError } from './mirror-request.ts';
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

const PROGRESS_STEP = 256 * 1024;

export async function downloadArtifact(o: DownloadOptions): Promise<DownloadResult> {
  const { mirrors, sha256, length, signal } = o;
  if (mirrors.length === 0) throw new UpdateError('DOWNLOAD_FAILED', 'no CDN mirror is configured');
  if (!/^[0-9a-f]{64}$/.test(sha256))
    throw new Error(`downloadArtifact: sha256 must be 64 hex digits, got ${sha256}`);
  const delayMs = spreadDelay(o.spreadMs ?? 0, o.random);
  await abortableDelay(delayMs, signal);
  const run = new MirrorRun(o, await openPart(`${o.dest}.part`, length));
  try {
    for (let pass = 0; pass < (o.passes ?? 3); pass++) {
      if (mirrors.every((m) => run.skipped.has(m))) break;
      if (pass > 0) await abortableDelay((o.backoffMs ?? 1000) * pass, signal);
      for (const mirror of mirrors) {
        if (run.skipped.has(mirror)) continue;
        let outcome = await run.attempt(mirror);
        if (outcome === 'again') outcome = await run.attempt(mirror);
        if (outcome === 'done') return { ...(await run.finish(mirror)), delayMs };
      }
    }
  } finally {
    run.close();
  }
  const allWrong = mirrors.every((m) => run.skipped.has(m));
  throw new UpdateError(
    allWrong ? 'HASH_MISMATCH' : 'DOWNLOAD_FAILED',
    `${o.contentPath}: no mirror delivered ${length} bytes with SHA-256 ${sha256} (${run.failures.slice(-6).join('; ')})`,
  );
}

/** One download's state over its mirrors: the part, what each mirror did, who is skipped. */
class MirrorRun {
  readonly skipped = new Set<string>();
  readonly failures: string[] = [];
  readonly #o: DownloadOptions;
  readonly #part: Part;
  readonly #log: Logger;
  readonly #counters: MirrorCounters;
  readonly #agents: { readonly http: HttpAgent; readonly https: HttpsAgent };
  #received = 0;
  #lastProgress = -PROGRESS_STEP;

  constructor(o: DownloadOptions, part: Part) {
    this.#o = o;
    this.#part = part;
    this.#log = (o.logger ?? silentLogger).child({ component: 'download', sha256: o.sha256 });
    this.#counters = o.counters ?? new MirrorCounters();
    this.#agents = {
      http: new HttpAgent({ keepAlive: false }),
      https: new HttpsAgent({ ca: o.ca, minVersion: 'TLSv1.2' }),
    };
  }

  /** Fetches the rest from `mirror` and checks the hash: done, next mirror, or again from 0. */
  async attempt(mirror: string): Promise<'done' | 'next' | 'again'> {
    const part = this.#part;
    const { length, sha256 } = this.#o;
    if (part.size < length) {
      const from = part.size;
      try {
        this.#received += await fetchInto(part, {
          ...this.#o,
          mirror,
          agents: this.#agents,
          onChunk: () => this.#progress(mirror),
        });
      } catch (error) {
        this.#o.signal?.throwIfAborted();
        if (error instanceof UpdateError) throw error;
        this.failures.push(`${mirror}: ${(error as Error).message}`);
        if (error instanceof WrongBytesError) {
          this.#log.warn(
            { mirror, from, err: error },
            'mirror served wrong bytes: skipped for this download',
          );
          this.#convict(mirror);
          await reset(part);
          return 'next';
        }
        const kind = error instanceof TimeoutError ? 'timeout' : 'error';
        this.#counters.count(mirror, kind);
        this.#log.warn({ mirror, from, at: part.size, kind, err: error }, 'mirror failed; trying the next');
        return 'next';
      }
      if (part.size < length) {
        this.#counters.count(mirror, 'error');
        this.failures.push(`${mirror}: the body ended at ${part.size} of ${length} bytes`);
        return 'next';
      }
    }
    const digest = part.hash.copy().digest('hex');
    if (digest === sha256) return 'done';
    this.failures.push(`${mirror}: SHA-256 ${digest}, not ${sha256}`);
    // A part one mirror sent alone convicts it; one assembled from several (after a cut, or from
    // an earlier run) convicts nobody: it is fetched again whole, and a next mismatch names one.
    const sources = [...part.sources];
    await reset(part);
    if (sources.length === 1 && sources[0] === mirror) {
      this.#log.warn({ mirror }, 'mirror served wrong bytes (SHA-256): skipped for this download');
      this.#convict(mirror);
      return 'next';
    }
    this.#log.warn(
      { mirror, sources },
      'wrong SHA-256 of a part from several sources: fetching it again whole',
    );
    return 'again';
  }

  /** The verified part becomes `dest`. */
  async finish(mirror: string): Promise<Omit<DownloadResult, 'delayMs'>> {
    this.#progress(mirror);
    await rename(this.#part.file, this.#o.dest);
    const by = this.#received === 0 ? '' : mirror;
    this.#log.info(
      { mirror: by, bytes: this.#received, length: this.#o.length },
      'artifact downloaded and its hash checked',
    );
    return { mirror: by, bytes: this.#received, resumedFrom: this.#part.start };
  }

  close(): void {
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }

  #convict(mirror: string): void {
    this.skipped.add(mirror);
    this.#counters.count(mirror, 'hash');
  }

  /** onProgress at most every PROGRESS_STEP bytes, and at the end. */
  #progress(mirror: string): void {
    const { size } = this.#part;
    const { length } = this.#o;
    if (size - this.#lastProgress < PROGRESS_STEP && size < length) return;
    this.#lastProgress = size;
    this.#o.onProgress?.({ bytes: size, length, mirror });
  }
}
