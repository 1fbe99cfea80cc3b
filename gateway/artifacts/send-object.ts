/**
 * An object store's bytes as an HTTP response, for the routes that serve them (an artifact's
 * content, an alarm clip's video and poster): If-None-Match → 304, HEAD without opening the
 * object, Range (honoured when If-Range is absent or names the ETag) → 206 with Content-Range,
 * a range past the end → 416 with Content-Range `bytes *\/size`, else 200 with the whole object.
 */
import type { Context } from 'hono';
import { ObjectNotFoundError, type ObjectRead, RangeNotSatisfiableError } from '../../objects/mod.ts';
import { parseRange } from './range.ts';

export interface SentObject {
  /** The quoted entity tag. */
  readonly etag: string;
  readonly cacheControl: string;
  readonly contentType: string;
  /** The object's size (bytes), as its record or a head says. */
  readonly size: number;
  /** Opens the object, or the range of it. */
  read(range: { start: number; end: number } | undefined): Promise<ObjectRead>;
  /** What to throw when the object is gone though its record is there. */
  missing(err: ObjectNotFoundError): Error;
}

export async function sendObject(c: Context, o: SentObject): Promise<Response> {
  const { etag } = o;
  const headers = { etag, 'cache-control': o.cacheControl, 'accept-ranges': 'bytes' };
  const typed = { ...headers, 'content-type': o.contentType };
  if (
    c.req
      .header('if-none-match')
      ?.split(/\s*,\s*/)
      .some((t) => t === etag || t === `W/${etag}` || t === '*')
  )
    return c.body(null, 304, headers);
  if (c.req.method === 'HEAD') return c.body(null, 200, { ...typed, 'content-length': String(o.size) });
  const ifRange = c.req.header('if-range');
  const range =
    ifRange === undefined || ifRange === etag ? parseRange(c.req.header('range'), o.size) : undefined;
  const unsatisfiable = (size: number) =>
    c.json(
      { error: { code: 'RANGE_NOT_SATISFIABLE', message: `The range starts past the end (${size} bytes)` } },
      416,
      { ...headers, 'content-range': `bytes */${size}` },
    );
  if (range === 'unsatisfiable') return unsatisfiable(o.size);
  try {
    const read = await o.read(range);
    const stream = read.body as unknown as ReadableStream;
    if (read.range === undefined)
      return c.body(stream, 200, { ...typed, 'content-length': String(read.info.size) });
    return c.body(stream, 206, {
      ...typed,
      'content-range': `bytes ${read.range.start}-${read.range.end}/${read.info.size}`,
      'content-length': String(read.range.end - read.range.start + 1),
    });
  } catch (err) {
    // The object shrank since its size was read.
    if (err instanceof RangeNotSatisfiableError) return unsatisfiable(err.size);
    if (err instanceof ObjectNotFoundError) throw o.missing(err);
    throw err;
  }
}
