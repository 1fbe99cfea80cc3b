/**
 * `checkClip`: a downloaded clip is what was asked for — a video (NOT_VIDEO otherwise), whose
 * duration covers the window within a tolerance (TOO_SHORT otherwise), and whose every frame
 * decodes: `ffmpeg -v error -i <clip> -f null -` prints nothing and exits 0 (UNDECODABLE
 * otherwise, e.g. a download cut short: an MP4 whose index, first with faststart, still claims the
 * whole duration while its frames stop half-way). docs/decisions/031-media.md.
 */
import { MediaError } from './errors.ts';
import { type ProbeResult, probeVideo } from './probe.ts';
import { lastLines, runTool } from './tools.ts';

/** A clip may be this much shorter than its window by default (cloud recordings start on a key frame). */
export const DEFAULT_TOLERANCE_MS = 1000;

export interface CheckClipOptions {
  /** The window's length, ms. */
  windowMs: number;
  /** How much shorter than the window the clip may be; default 1000 ms. */
  toleranceMs?: number;
  signal?: AbortSignal;
  /** Limit of the full decode; default 60 s + the window's length. */
  timeoutMs?: number;
}

export async function checkClip(path: string, options: CheckClipOptions): Promise<ProbeResult> {
  const { windowMs, toleranceMs = DEFAULT_TOLERANCE_MS, signal } = options;
  if (!Number.isFinite(windowMs) || windowMs <= 0) {
    throw new RangeError(`Cannot check clip: windowMs must be > 0, got ${windowMs}`);
  }
  if (!Number.isFinite(toleranceMs) || toleranceMs < 0) {
    throw new RangeError(`Cannot check clip: toleranceMs must be >= 0, got ${toleranceMs}`);
  }
  const timeoutMs = options.timeoutMs ?? 60_000 + windowMs;
  const probe = await probeVideo(path, { signal });
  if (probe.durationMs + toleranceMs < windowMs) {
    throw new MediaError(
      'TOO_SHORT',
      `${path} lasts ${seconds(probe.durationMs)}, shorter than its ${seconds(windowMs)} window (tolerance ${seconds(toleranceMs)})`,
    );
  }
  const out = await runTool(
    'ffmpeg',
    ['-hide_banner', '-nostdin', '-v', 'error', '-i', path, '-f', 'null', '-'],
    {
      signal,
      timeoutMs,
      allowFailure: true,
    },
  );
  const errors = out.stderr.trim();
  if (out.code !== 0 || errors !== '') {
    const lines = errors === '' ? 0 : errors.split('\n').length;
    throw new MediaError(
      'UNDECODABLE',
      `${path} does not decode to the end (ffmpeg exited ${out.code}, ${lines} error line(s)): ${lastLines(errors)}`,
    );
  }
  return probe;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
