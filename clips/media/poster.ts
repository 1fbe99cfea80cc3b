/**
 * `extractPoster`: one frame of a clip as a JPEG (ffmpeg's mjpeg, quality 3), written whole or not
 * at all (a temporary file renamed into place). The frame is the one at `atMs` (clamped into the
 * clip), else the clip's middle; a seek that yields no frame falls back to the first.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, stat } from 'node:fs/promises';
import { MediaError } from './errors.ts';
import { probeVideo } from './probe.ts';
import { runTool } from './tools.ts';

export interface ExtractPosterOptions {
  /** Offset into the clip, ms; default the middle. */
  atMs?: number;
  signal?: AbortSignal;
  /** Default 30 s. */
  timeoutMs?: number;
}

export interface Poster {
  bytes: number;
  /** The offset asked of ffmpeg, ms (0 after the fallback to the first frame). */
  atMs: number;
}

export async function extractPoster(
  video: string,
  posterPath: string,
  options: ExtractPosterOptions = {},
): Promise<Poster> {
  const { signal, timeoutMs = 30_000 } = options;
  if (options.atMs !== undefined && (!Number.isFinite(options.atMs) || options.atMs < 0)) {
    throw new RangeError(`Cannot extract poster: atMs must be >= 0, got ${options.atMs}`);
  }
  const { durationMs } = await probeVideo(video, { signal });
  // Stay a little inside the end: a seek to the very last instant finds no frame after it.
  const last = Math.max(0, durationMs - 500);
  const atMs = Math.min(options.atMs ?? Math.floor(durationMs / 2), last);
  const part = `${posterPath}.${randomBytes(4).toString('hex')}.part`;
  try {
    let bytes = await frameAt(video, part, atMs, signal, timeoutMs);
    let used = atMs;
    if (bytes === 0 && atMs > 0) {
      bytes = await frameAt(video, part, 0, signal, timeoutMs);
      used = 0;
    }
    if (bytes === 0) throw new MediaError('UNDECODABLE', `${video} gave no frame for a poster`);
    await rename(part, posterPath);
    return { bytes, atMs: used };
  } finally {
    await rm(part, { force: true }).catch(() => undefined);
  }
}

async function frameAt(
  video: string,
  out: string,
  atMs: number,
  signal: AbortSignal | undefined,
  timeoutMs: number,
): Promise<number> {
  await runTool(
    'ffmpeg',
    [
      ...['-hide_banner', '-nostdin', '-v', 'error', '-y'],
      ...['-ss', (atMs / 1000).toFixed(3), '-i', video],
      ...['-frames:v', '1', '-an', '-c:v', 'mjpeg', '-q:v', '3', '-f', 'image2', '-update', '1', out],
    ],
    { signal, timeoutMs },
  );
  try {
    return (await stat(out)).size;
  } catch {
    return 0;
  }
}
