/**
 * The object store on a local filesystem (`file:///abs/dir`; the embedded default for `npm start`
 * is `.devicehub/objects`): an object is the file `<dir>/<key>`. A put writes `<dir>/.tmp/<random>`
 * and renames it into place (atomic on one filesystem: a reader sees the old file or the new one),
 * so a crash leaves at most a temporary file, removed at the next open. A content type, when given,
 * is kept beside the object in `<dir>/.meta/<key>`. Reads stream from an open file handle.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { ObjectNotFoundError, RangeNotSatisfiableError } from './errors.ts';
import { checkKey, checkPrefix } from './keys.ts';
import type { ByteRange, ObjectBody, ObjectInfo, ObjectRead, ObjectStore } from './object-store.ts';

const TMP = '.tmp';
const META = '.meta';

export class FsObjectStore implements ObjectStore {
  readonly kind = 'fs' as const;
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Opens (creating) the store in `dir`, an absolute path; leftover temporary files are removed. */
  static async open(dir: string): Promise<FsObjectStore> {
    await rm(join(dir, TMP), { recursive: true, force: true });
    await mkdir(join(dir, TMP), { recursive: true });
    return new FsObjectStore(dir);
  }

  async put(
    key: string,
    body: ObjectBody,
    o: { contentType?: string; signal?: AbortSignal } = {},
  ): Promise<ObjectInfo> {
    const path = this.#path(key);
    const tmp = join(this.dir, TMP, randomUUID());
    try {
      await pipeline(toReadable(body), createWriteStream(tmp, { flags: 'wx' }), { signal: o.signal });
      const { size } = await stat(tmp);
      await mkdir(dirname(path), { recursive: true });
      await this.#writeMeta(key, o.contentType);
      await rename(tmp, path);
      return { key, size, ...(o.contentType === undefined ? {} : { contentType: o.contentType }) };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async get(key: string, o: { range?: ByteRange; signal?: AbortSignal } = {}): Promise<ObjectRead> {
    const path = this.#path(key);
    const handle = await open(path, 'r').catch((err: unknown) => {
      throw isMissing(err) ? new ObjectNotFoundError(key, { cause: err }) : err;
    });
    try {
      const stats = await handle.stat();
      // `a` is a folder when `a/b` exists: the filesystem store cannot hold both (S3 can).
      if (!stats.isFile()) throw new ObjectNotFoundError(key);
      const { size } = stats;
      const info = await this.#info(key, size);
      const range = o.range === undefined ? undefined : clip(key, o.range, size);
      const stream = handle.createReadStream({
        ...(range === undefined ? {} : { start: range.start, end: range.end }),
        ...(o.signal === undefined ? {} : { signal: o.signal }),
      });
      const body = Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>;
      return { info, body, ...(range === undefined ? {} : { range }) };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const stats = await stat(this.#path(key)).catch((err: unknown) => {
      if (isMissing(err)) return undefined;
      throw err;
    });
    return stats === undefined || !stats.isFile() ? undefined : await this.#info(key, stats.size);
  }

  async move(from: string, to: string): Promise<void> {
    const source = this.#path(from);
    const target = this.#path(to);
    if (source === target) {
      if ((await this.head(from)) === undefined) throw new ObjectNotFoundError(from);
      return;
    }
    await mkdir(dirname(target), { recursive: true });
    const contentType = (await this.head(from))?.contentType;
    try {
      await rename(source, target);
    } catch (err) {
      throw isMissing(err) ? new ObjectNotFoundError(from, { cause: err }) : err;
    }
    await this.#writeMeta(to, contentType);
    await rm(this.#metaPath(from), { force: true });
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
    await rm(this.#metaPath(key), { force: true });
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    checkPrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    const start = slash < 0 ? this.dir : join(this.dir, prefix.slice(0, slash));
    for await (const path of walk(start, start === this.dir)) {
      const key = relative(this.dir, path).split(sep).join('/');
      if (!key.startsWith(prefix)) continue;
      const stats = await stat(path).catch(() => undefined); // deleted meanwhile
      if (stats !== undefined) yield await this.#info(key, stats.size);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {}

  #path(key: string): string {
    return join(this.dir, checkKey(key));
  }

  #metaPath(key: string): string {
    return join(this.dir, META, checkKey(key));
  }

  async #writeMeta(key: string, contentType: string | undefined): Promise<void> {
    const path = this.#metaPath(key);
    if (contentType === undefined) return void (await rm(path, { force: true }));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, contentType);
  }

  async #info(key: string, size: number): Promise<ObjectInfo> {
    const contentType = await readFile(this.#metaPath(key), 'utf8').catch(() => undefined);
    return { key, size, ...(contentType === undefined ? {} : { contentType }) };
  }
}

/** `range` within an object of `size` bytes (end clipped to the last byte), or a 416 error. */
function clip(key: string, range: ByteRange, size: number): { start: number; end: number } {
  if (!Number.isSafeInteger(range.start) || range.start < 0 || range.start >= size)
    throw new RangeNotSatisfiableError(key, range.start, size);
  const end = Math.min(range.end ?? size - 1, size - 1);
  if (end < range.start) throw new RangeNotSatisfiableError(key, range.start, size);
  return { start: range.start, end };
}

/** Any body the interface takes, as a Node stream. */
export function toReadable(body: ObjectBody): Readable {
  if (body instanceof Readable) return body;
  if (body instanceof ReadableStream) return Readable.fromWeb(body as NodeReadableStream<Uint8Array>);
  return Readable.from(body, { objectMode: false });
}

/** Every file under `dir` (depth first); at the store's root its own folders are skipped. */
async function* walk(dir: string, root: boolean): AsyncIterable<string> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: unknown) => {
    if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  });
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (root && (entry.name === TMP || entry.name === META)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path, false);
    else if (entry.isFile()) yield path;
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
