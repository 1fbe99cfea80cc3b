/**
 * What the media checks refuse, as typed errors with a code. The clip's own faults are terminal
 * (the same file fails the same way again): NOT_VIDEO (ffprobe finds no video in it), UNDECODABLE
 * (a video container whose frames do not decode to the end: a cut download, a broken file),
 * TOO_SHORT (its duration does not cover the window). The tools' faults: TOOL_MISSING (no ffmpeg
 * or ffprobe where DEVICEHUB_FFMPEG / DEVICEHUB_FFPROBE or PATH say), TOOL_FAILED (it exited
 * non-zero on a file it should handle), TIMEOUT (it ran past its limit; retryable).
 */

export const MEDIA_ERRORS = [
  'NOT_VIDEO',
  'UNDECODABLE',
  'TOO_SHORT',
  'TOOL_MISSING',
  'TOOL_FAILED',
  'TIMEOUT',
] as const;
export type MediaErrorCode = (typeof MEDIA_ERRORS)[number];

export class MediaError extends Error {
  readonly code: MediaErrorCode;
  /** True only for TIMEOUT: the same file may pass on a less loaded machine. */
  readonly retryable: boolean;
  constructor(code: MediaErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MediaError';
    this.code = code;
    this.retryable = code === 'TIMEOUT';
  }
}
