/**
 * Media checks for alarm clips, with Debian's ffmpeg and ffprobe (DEVICEHUB_FFMPEG /
 * DEVICEHUB_FFPROBE, else PATH): what a file is (`probeVideo`), whether a downloaded clip is the
 * one asked for (`checkClip`: a video, long enough, decoding to the end), its poster frame
 * (`extractPoster`), and the test clips the Ezviz stand-in serves (`renderTestClip`).
 * docs/decisions/031-media.md.
 */
export { type CheckClipOptions, checkClip, DEFAULT_TOLERANCE_MS } from './check-clip.ts';
export { MEDIA_ERRORS, MediaError, type MediaErrorCode } from './errors.ts';
export { type ExtractPosterOptions, extractPoster, type Poster } from './poster.ts';
export { type ProbeOptions, type ProbeResult, probeVideo } from './probe.ts';
export {
  defaultTestClipDir,
  type RenderTestClipOptions,
  renderTestClip,
  TEST_CLIP_FONT,
  TEST_CLIP_FPS,
  TEST_CLIP_HEIGHT,
  TEST_CLIP_WIDTH,
} from './test-clip.ts';
export { toolPath } from './tools.ts';
