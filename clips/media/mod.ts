/**
 * Media checks for alarm clips, with Debian's ffmpeg and ffprobe (DEVICEHUB_FFMPEG /
 * DEVICEHUB_FFPROBE, else PATH): the test clips the Ezviz stand-in serves (`renderTestClip`).
 * docs/decisions/031-media.md.
 */
export { MEDIA_ERRORS, MediaError, type MediaErrorCode } from './errors.ts';
export {
  defaultTestClipDir,
  type RenderTestClipOptions,
  renderTestClip,
  TEST_CLIP_FPS,
  TEST_CLIP_HEIGHT,
  TEST_CLIP_WIDTH,
} from './test-clip.ts';
export { toolPath } from './tools.ts';
