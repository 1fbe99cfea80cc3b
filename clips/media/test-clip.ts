/**
 * `renderTestClip`: a real H.264 MP4 standing in for a camera's cloud recording (the Ezviz
 * stand-in serves it, the tests and the demo play it). Its burned-in clock shows the window's
 * wall-clock time (UTC) on every frame, so each second of the window appears in it, and its label
 * says whose clip it is. Small and fast: 320×180, 5 fps, x264 ultrafast, yuv420p, a key frame every
 * 2 s, `+faststart` (the index first, so a browser plays and seeks it while it downloads).
 * Cached by (window, label): the same window and label give the same file, rendered once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool } from './tools.ts';

/** The font the clock and label are drawn with (Debian's fonts-dejavu-core). */
export const TEST_CLIP_FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf';
export const TEST_CLIP_WIDTH = 320;
export const TEST_CLIP_HEIGHT = 180;
export const TEST_CLIP_FPS = 5;
/** Longest window rendered (4 h; a clip is at most 30 min plus 2 × 5 min of rolls). */
const MAX_WINDOW_MS = 4 * 3600_000;
const MAX_LABEL = 200;

export interface RenderTestClipOptions {
  /** The window's start and end, ms since the epoch (end > start). */
  startMs: number;
  endMs: number;
  /** Drawn under the clock, e.g. `edge-7 trapped`; at most 200 characters. */
  label: string;
  /** Directory the clips are cached in; default `<tmpdir>/devicehub-test-clips`. */
  dest?: string;
  signal?: AbortSignal;
}

/** Renders in progress in this process, by path: a second caller waits for the first. */
const rendering = new Map<string, Promise<string>>();

/** The default cache directory. */
export function defaultTestClipDir(): string {
  return join(tmpdir(), 'devicehub-test-clips');
}

/** Resolves with the path of the MP4 for (window, label), rendering it unless already cached. */
export async function renderTestClip(options: RenderTestClipOptions): Promise<string> {
  const { startMs, endMs, label, dest = defaultTestClipDir(), signal } = options;
  if (!Number.isSafeInteger(startMs) || startMs < 0) {
    throw new RangeError(`Cannot render test clip: startMs must be a non-negative integer, got ${startMs}`);
  }
  if (!Number.isSafeInteger(endMs) || endMs <= startMs || endMs - startMs > MAX_WINDOW_MS) {
    throw new RangeError(
      `Cannot render test clip: endMs must be an integer in (startMs, startMs + ${MAX_WINDOW_MS}], got ${endMs} (startMs ${startMs})`,
    );
  }
  if (label.length > MAX_LABEL) {
    throw new RangeError(
      `Cannot render test clip: label must be at most ${MAX_LABEL} characters, got ${label.length}`,
    );
  }
  const key = createHash('sha256').update(`${startMs}\n${endMs}\n${label}`).digest('hex').slice(0, 32);
  const path = join(dest, `testclip-${key}.mp4`);
  const inFlight = rendering.get(path);
  if (inFlight) return inFlight;
  const job = (async () => {
    if (await exists(path)) return path;
    await mkdir(dest, { recursive: true });
    await render({ startMs, endMs, label, dir: dest, key, path, signal });
    return path;
  })();
  rendering.set(path, job);
  try {
    return await job;
  } finally {
    rendering.delete(path);
  }
}

async function render(o: {
  startMs: number;
  endMs: number;
  label: string;
  dir: string;
  key: string;
  path: string;
  signal: AbortSignal | undefined;
}): Promise<void> {
  const tag = `${o.key}.${process.pid}.${randomBytes(4).toString('hex')}`;
  // Text goes through files named without special characters, read relative to the directory
  // (ffmpeg runs there): nothing of the label or the path is escaped into the filter graph.
  const clockFile = `${tag}.clock.txt`;
  const labelFile = `${tag}.label.txt`;
  const part = `${tag}.part`;
  const seconds = (o.endMs - o.startMs) / 1000;
  // drawtext's %{pts:gmtime:OFFSET:FORMAT}: the frame's time plus the window's start, in UTC.
  await writeFile(
    join(o.dir, clockFile),
    `%{pts:gmtime:${(o.startMs / 1000).toFixed(3)}:%Y-%m-%d %H\\:%M\\:%S} UTC`,
  );
  await writeFile(join(o.dir, labelFile), `${o.label}\n${windowLine(o.startMs, o.endMs)}`);
  const font = `fontfile=${TEST_CLIP_FONT}`;
  const filter = [
    `drawtext=${font}:textfile=${clockFile}:fontsize=18:fontcolor=white:x=(w-tw)/2:y=h/2-th-6`,
    `drawtext=${font}:textfile=${labelFile}:expansion=none:fontsize=11:line_spacing=4:fontcolor=0xffd060:x=(w-tw)/2:y=h/2+10`,
  ].join(',');
  try {
    await runTool(
      'ffmpeg',
      [
        ...['-hide_banner', '-nostdin', '-v', 'error', '-y'],
        ...[
          '-f',
          'lavfi',
          '-i',
          `color=c=0x1e2a38:s=${TEST_CLIP_WIDTH}x${TEST_CLIP_HEIGHT}:r=${TEST_CLIP_FPS}:d=${seconds}`,
        ],
        ...['-vf', filter, '-an'],
        ...[
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-pix_fmt',
          'yuv420p',
          '-g',
          String(2 * TEST_CLIP_FPS),
        ],
        ...['-movflags', '+faststart', '-f', 'mp4', part],
      ],
      { cwd: o.dir, signal: o.signal, timeoutMs: 60_000 + seconds * 100 },
    );
    await rename(join(o.dir, part), o.path);
  } finally {
    await Promise.all(
      [clockFile, labelFile, part].map((f) => rm(join(o.dir, f), { force: true }).catch(() => undefined)),
    );
  }
}

/** `window 08:00:00.500 - 08:00:10.500 (10.0 s)`, UTC. */
function windowLine(startMs: number, endMs: number): string {
  const hms = (ms: number): string => new Date(ms).toISOString().slice(11, 23);
  return `window ${hms(startMs)} - ${hms(endMs)} (${((endMs - startMs) / 1000).toFixed(1)} s)`;
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).size > 0;
  } catch {
    return false;
  }
}
