/**
 * An upload's body into the object store, streamed: hashed (SHA-256) and counted chunk by chunk on
 * its way to a temporary upload key, refused the moment it passes the bound (TOO_LARGE), when it
 * ends short of its Content-Length or breaks off (TRUNCATED), is empty (EMPTY) or longer than
 * announced (LENGTH_MISMATCH). Nothing is kept on a refusal: the upload key is deleted.
 */
import { createHash, randomUUID } from 'node:crypto';
import { type ObjectStore, uploadKey } from '../../objects/mod.ts';
import { ArtifactError } from './errors.ts';

export interface Received {
  /** Where the bytes are now (to move to their artifact key, or delete). */
  readonly key: string;
  readonly sha256: string;
  readonly size: number;
}

export async function receiveUpload(
  store: ObjectStore,
  body: ReadableStream<Uint8Array> | null,
  o: { readonly maxBytes: number; readonly contentLength?: number; readonly signal?: AbortSignal },
): Promise<Received> {
  if (o.contentLength !== undefined && o.contentLength > o.maxBytes) throw tooLarge(o.maxBytes);
  if (body === null) throw new ArtifactError('EMPTY', 'The body is empty: send the artifact’s bytes');
  const hash = createHash('sha256');
  let size = 0;
  const { maxBytes, contentLength } = o;
  const measure = (chunk: Uint8Array) => {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    if (contentLength !== undefined && size > contentLength)
      throw new ArtifactError(
        'LENGTH_MISMATCH',
        `The body is longer than its Content-Length (${contentLength})`,
      );
    hash.update(chunk);
  };
  const key = uploadKey(randomUUID());
  try {
    await store.put(key, measured(body, measure), o.signal === undefined ? {} : { signal: o.signal });
  } catch (err) {
    await store.delete(key).catch(() => {});
    if (err instanceof ArtifactError) throw err;
    // The body broke off (the client went away, or the connection did): what the client sent is short.
    if (o.signal?.aborted || isBodyError(err))
      throw new ArtifactError('TRUNCATED', `The body broke off after ${size} bytes`, { received: size });
    throw err;
  }
  const refusal =
    size === 0
      ? new ArtifactError('EMPTY', 'The body is empty: send the artifact’s bytes')
      : o.contentLength !== undefined && size < o.contentLength
        ? new ArtifactError('TRUNCATED', `The body ended after ${size} of its ${o.contentLength} bytes`, {
            received: size,
            contentLength: o.contentLength,
          })
        : undefined;
  if (refusal !== undefined) {
    await store.delete(key);
    throw refusal;
  }
  return { key, sha256: hash.digest('hex'), size };
}

/** The request body, each chunk measured before it goes on; a body that fails is marked as such. */
async function* measured(
  body: ReadableStream<Uint8Array>,
  measure: (chunk: Uint8Array) => void,
): AsyncIterable<Uint8Array> {
  const reader = body.getReader();
  try {
    for (;;) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch (err) {
        throw Object.assign(new Error('The request body failed', { cause: err }), { bodyError: true });
      }
      if (next.done) return;
      measure(next.value);
      yield next.value;
    }
  } finally {
    // Stop reading what is left of a refused body.
    await reader.cancel().catch(() => {});
  }
}

function isBodyError(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause)
    if ((e as { bodyError?: boolean }).bodyError) return true;
  return false;
}

function tooLarge(maxBytes: number): ArtifactError {
  return new ArtifactError('TOO_LARGE', `The artifact is larger than ${maxBytes} bytes`, { maxBytes });
}
