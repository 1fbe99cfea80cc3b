/**
 * Downloading a clip from Ezviz's download URL into a file, hashing it on the way (SHA-256).
 * A download URL is short-lived: one that has expired (or is refused: 401/403/410) is asked for
 * again; a download that breaks off (a reset, fewer bytes than Content-Length, a 5xx) is tried
 * again — `attempts` times in all, within the job's slot, since these are seconds of work, not
 * a wait. What still fails is a retryable DOWNLOAD_FAILED: the job backs off like any other.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../../actors/mod.ts';
import { toError } from '../../bus/mod.ts';
import { ClipError } from './clip-error.ts';

export interface DownloadedFile {
  readonly bytes: number;
  readonly sha256: string;
}

export interface DownloadOptions {
  /** A fresh download URL (`EzvizClient.downloadUrl`): asked before the first try and after a refusal. */
  readonly url: () => Promise<{ readonly url: string; readonly expiresAt: number }>;
  readonly dest: string;
  /** Tries in all (default 3). */
  readonly attempts?: number;
  /** One try's time limit (default 120 s). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly log: Logger;
  /** Counted: a URL asked again, a download tried again. */
  readonly onRetry?: (why: 'expired' | 'cut') => void;
}

/** Thrown by one try: `expired` when the URL must be asked for again. */
class TryFailed extends Error {
  readonly expired: boolean;
  constructor(message: string, expired: boolean) {
    super(message);
    this.expired = expired;
  }
}

export async function downloadClip(o: DownloadOptions): Promise<DownloadedFile> {
  const { attempts = 3, timeoutMs = 120_000, log } = o;
  let link = await o.url();
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    // Expired (or about to) before the try, or refused by the last one: a new URL.
    if (link.expiresAt <= Date.now() + 1000) {
      o.onRetry?.('expired');
      link = await o.url();
    }
    try {
      return await downloadOnce(link.url, o.dest, AbortSignal.any(signals(o.signal, timeoutMs)));
    } catch (error) {
      if (o.signal?.aborted) throw error;
      const failure = error instanceof TryFailed ? error : new TryFailed(toError(error).message, false);
      last = failure.message;
      log.warn({ attempt, attempts, expired: failure.expired, reason: last }, 'clip download failed');
      if (failure.expired) link = { ...link, expiresAt: 0 };
      else o.onRetry?.('cut');
    }
  }
  throw new ClipError('DOWNLOAD_FAILED', `the download failed ${attempts} times; last: ${last}`, {
    retryable: true,
  });
}

function signals(signal: AbortSignal | undefined, timeoutMs: number): AbortSignal[] {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal === undefined ? [timeout] : [signal, timeout];
}

async function downloadOnce(url: string, dest: string, signal: AbortSignal): Promise<DownloadedFile> {
  const response = await fetch(url, { signal });
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    const expired = [401, 403, 404, 410].includes(response.status);
    throw new TryFailed(`HTTP ${response.status} from the download URL`, expired);
  }
  if (response.body === null) throw new TryFailed('the download had no body', false);
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  const hash = createHash('sha256');
  let bytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(
    Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>),
    count,
    createWriteStream(dest),
    { signal },
  );
  if (Number.isFinite(declared) && bytes !== declared)
    throw new TryFailed(`the download broke off after ${bytes} of ${declared} bytes`, false);
  if (bytes === 0) throw new TryFailed('the download was empty', false);
  return { bytes, sha256: hash.digest('hex') };
}
