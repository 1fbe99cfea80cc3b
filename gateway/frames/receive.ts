/**
 * A frame's body, read as it streams and counted chunk by chunk: refused (TOO_LARGE) the moment it
 * passes the bound, so a 50 MB body costs the gateway one chunk, not 50 MB; then checked to be a
 * JPEG by its first bytes (FF D8 FF). A frame is small (2 MiB at most), so what passes is held
 * whole: the idempotency check compares it with the stored one. A truncated JPEG passes — its
 * bytes are what the edge had; the recognition worker's decoder calls it `invalid` later.
 */
import { FrameError } from './errors.ts';

/** The first bytes of every JPEG: SOI (FF D8) and the next marker's FF. */
const JPEG_MAGIC = [0xff, 0xd8, 0xff] as const;

export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= JPEG_MAGIC.length && JPEG_MAGIC.every((b, i) => bytes[i] === b);
}

export async function receiveFrame(
  body: ReadableStream<Uint8Array> | null,
  o: { readonly maxBytes: number; readonly contentLength?: number },
): Promise<Buffer> {
  const { maxBytes, contentLength } = o;
  if (contentLength !== undefined && contentLength > maxBytes) throw tooLarge(maxBytes);
  if (body === null) throw empty();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch (err) {
        throw new FrameError('TRUNCATED', `The body broke off after ${size} bytes`, { cause: String(err) });
      }
      if (next.done) break;
      size += next.value.length;
      if (size > maxBytes) throw tooLarge(maxBytes);
      chunks.push(next.value);
    }
  } finally {
    // Stop reading what is left of a refused body.
    await reader.cancel().catch(() => {});
  }
  if (size === 0) throw empty();
  const bytes = Buffer.concat(chunks, size);
  if (!isJpeg(bytes))
    throw new FrameError(
      'NOT_JPEG',
      `The body is not a JPEG: it starts ${bytes.subarray(0, 4).toString('hex')}, a JPEG starts ffd8ff`,
    );
  return bytes;
}

function tooLarge(maxBytes: number): FrameError {
  return new FrameError('TOO_LARGE', `The frame is larger than ${maxBytes} bytes`, { maxBytes });
}

function empty(): FrameError {
  return new FrameError('EMPTY', 'The body is empty: send the frame’s JPEG bytes');
}
