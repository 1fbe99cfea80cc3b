/**
 * `probeVideo`: what ffprobe says of a file — its duration, its first video stream's size and
 * codec — or NOT_VIDEO when there is no video in it (random bytes, an HTML error page, a still
 * image, audio only, an empty file), UNDECODABLE when it is a video container ffprobe cannot
 * open (an MP4 cut before its index) or a video with no duration.
 */
import { open } from 'node:fs/promises';
import { MediaError } from './errors.ts';
import { lastLines, runTool } from './tools.ts';

export interface ProbeResult {
  /** The container's duration (else the video stream's), rounded to ms. */
  durationMs: number;
  width: number;
  height: number;
  /** ffprobe's codec name: `h264`, `hevc`, … */
  codec: string;
}

export interface ProbeOptions {
  signal?: AbortSignal;
  /** Default 30 s (ffprobe reads the headers only). */
  timeoutMs?: number;
}

/** Formats whose "video" is no clip (ffprobe's format_name): still images, and text drawn as ANSI art. */
const NOT_A_CLIP_FORMAT = /^(image2|[a-z0-9]+_pipe|tty)$/;

export async function probeVideo(path: string, options: ProbeOptions = {}): Promise<ProbeResult> {
  const { signal, timeoutMs = 30_000 } = options;
  const head = await readHead(path);
  if (head.length === 0) throw new MediaError('NOT_VIDEO', `${path} is empty`);
  const out = await runTool(
    'ffprobe',
    ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', path],
    { signal, timeoutMs, allowFailure: true },
  );
  if (out.code !== 0) {
    const why = lastLines(out.stderr);
    if (looksLikeVideoContainer(head)) {
      throw new MediaError('UNDECODABLE', `${path} is a video container ffprobe cannot open: ${why}`);
    }
    throw new MediaError('NOT_VIDEO', `${path} is not a video: ${why}`);
  }
  const info = parse(out.stdout, path);
  const format = info.format ?? {};
  if (typeof format.format_name === 'string' && NOT_A_CLIP_FORMAT.test(format.format_name)) {
    throw new MediaError(
      'NOT_VIDEO',
      `${path} is a still image or text (${format.format_name}), not a video`,
    );
  }
  const video = (info.streams ?? []).find((s) => s.codec_type === 'video');
  if (!video) {
    const kinds = (info.streams ?? []).map((s) => s.codec_type ?? '?').join(', ') || 'no streams';
    throw new MediaError('NOT_VIDEO', `${path} has no video stream (${kinds})`);
  }
  const seconds = Number(format.duration ?? video.duration);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new MediaError('UNDECODABLE', `${path} has no duration (format ${format.format_name ?? '?'})`);
  }
  return {
    durationMs: Math.round(seconds * 1000),
    width: Number(video.width ?? 0),
    height: Number(video.height ?? 0),
    codec: String(video.codec_name ?? 'unknown'),
  };
}

interface FfprobeJson {
  format?: { format_name?: unknown; duration?: unknown };
  streams?: {
    codec_type?: unknown;
    codec_name?: unknown;
    width?: unknown;
    height?: unknown;
    duration?: unknown;
  }[];
}

function parse(stdout: string, path: string): FfprobeJson {
  try {
    const value: unknown = JSON.parse(stdout);
    if (typeof value === 'object' && value !== null) return value as FfprobeJson;
  } catch {
    // fall through
  }
  throw new MediaError('TOOL_FAILED', `ffprobe printed no JSON for ${path}: ${stdout.slice(0, 200)}`);
}

/** The first 256 bytes of the file (fewer if it is shorter). */
async function readHead(path: string): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const buf = Buffer.alloc(256);
    const { bytesRead } = await file.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

const MP4_BOXES = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'styp']);

/**
 * Whether the first bytes are a video container's (MP4/MOV box, Matroska/WebM, FLV, MPEG-TS,
 * MPEG-PS, AVI): such a file that ffprobe cannot open is a broken video, not some other file.
 */
export function looksLikeVideoContainer(head: Uint8Array): boolean {
  const b = Buffer.from(head);
  if (b.length >= 8 && MP4_BOXES.has(b.toString('latin1', 4, 8))) return true;
  if (b.length >= 4 && b.readUInt32BE(0) === 0x1a45dfa3) return true; // EBML
  if (b.length >= 3 && b.toString('latin1', 0, 3) === 'FLV') return true;
  if (b.length >= 4 && b.readUInt32BE(0) === 0x000001ba) return true; // MPEG-PS pack
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'AVI ')
    return true;
  return b.length > 188 && b[0] === 0x47 && b[188] === 0x47; // MPEG-TS: sync byte every 188
}
