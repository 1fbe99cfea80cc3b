/**
 * The one interface of the object store (docs/decisions/022-object-store.md): artifacts now, alarm
 * clips and recognition frames later. Keys are `/`-separated names built in `keys.ts`; a body is
 * streamed in and out, never held whole in memory. Implementations: the filesystem (`fs-store.ts`)
 * and S3 or anything that speaks it (`s3-store.ts`); `openObjectStore` picks one from a URL.
 */

export interface ObjectInfo {
  readonly key: string;
  /** Bytes. */
  readonly size: number;
  readonly contentType?: string;
}

/** Where bytes come from: a Node stream, an async generator or a web ReadableStream. */
export type ObjectBody = AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

/** A byte range, both ends inclusive (like HTTP's `Range: bytes=start-end`); no end: to the last byte. */
export interface ByteRange {
  readonly start: number;
  readonly end?: number;
}

export interface ObjectRead {
  readonly info: ObjectInfo;
  readonly body: ReadableStream<Uint8Array>;
  /** The bytes `body` holds when a range was asked for (end clipped to the object's last byte). */
  readonly range?: { readonly start: number; readonly end: number };
}

export interface ObjectStore extends AsyncDisposable {
  readonly kind: 'fs' | 's3';
  /**
   * Stores `body` under `key`, replacing what was there; readers see the old object or the whole
   * new one, never part of it. Aborting `signal` (or `body` failing) stores nothing and rejects.
   */
  put(
    key: string,
    body: ObjectBody,
    o?: { readonly contentType?: string; readonly signal?: AbortSignal },
  ): Promise<ObjectInfo>;
  /** The object's bytes (or a range of them); ObjectNotFoundError, RangeNotSatisfiableError. */
  get(key: string, o?: { readonly range?: ByteRange; readonly signal?: AbortSignal }): Promise<ObjectRead>;
  /** The object's size and content type, or undefined when there is none. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Renames `from` to `to` (replacing `to`); ObjectNotFoundError when `from` is missing. */
  move(from: string, to: string): Promise<void>;
  /** Removes the object; nothing happens when there is none. */
  delete(key: string): Promise<void>;
  /** Every object whose key starts with `prefix` (a plain string prefix, as in S3), in no set order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
}
