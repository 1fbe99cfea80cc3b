/**
 * What can go wrong with a clip job, as one typed error: a `code` the operator reads in the
 * `clips` row and the `clip.failed` event, and whether trying again later may help (`retryable`:
 * backed off until the request's deadline) or not (the job fails at once). `classifyError` turns
 * whatever a step threw — Ezviz's answers, ffprobe's verdicts, a cut download, a database or
 * Redis hiccup — into one.
 */
import { toError } from '../../bus/mod.ts';
import { EzvizError } from '../ezviz/mod.ts';
import { MediaError, type MediaErrorCode } from '../media/mod.ts';

/** The codes a clip job fails (or backs off) with, besides Ezviz's own (`EZVIZ_<code>`). */
export const CLIP_ERROR_CODES = [
  /** No camera in the request nor in the edge's configuration. */
  'NO_CAMERA',
  /** Ezviz does not know the camera's serial (or the account may not use it). */
  'NO_DEVICE',
  /** The camera is offline: retried until the deadline. */
  'CAMERA_OFFLINE',
  /** The recording is not in the cloud yet: retried until the deadline. */
  'NOT_READY',
  /** Ezviz's call-count or frequency limit: retried until the deadline. */
  'RATE_LIMITED',
  /** Ezviz answered something that is not its API's shape. */
  'MALFORMED',
  /** Ezviz says the save task failed. */
  'TASK_FAILED',
  /** The download broke off or was refused: retried until the deadline. */
  'DOWNLOAD_FAILED',
  /** Our own side failed (database, Redis, object store): retried until the deadline. */
  'INTERNAL',
] as const;

/**
 * Also the media checks' (clips/media): NOT_VIDEO, UNDECODABLE, TOO_SHORT (the file's own faults,
 * terminal), TOOL_MISSING, TOOL_FAILED, TIMEOUT (retryable).
 */
export type ClipErrorCode = (typeof CLIP_ERROR_CODES)[number] | MediaErrorCode | `EZVIZ_${string}`;

export class ClipError extends Error {
  readonly code: ClipErrorCode;
  readonly retryable: boolean;
  constructor(code: ClipErrorCode, message: string, o: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause });
    this.name = 'ClipError';
    this.code = code;
    this.retryable = o.retryable ?? false;
  }
}

const EZVIZ_KINDS: Readonly<Record<string, { code: ClipErrorCode; retryable: boolean; what: string }>> = {
  offline: { code: 'CAMERA_OFFLINE', retryable: true, what: 'the camera is offline' },
  not_ready: { code: 'NOT_READY', retryable: true, what: 'the recording is not in the cloud yet' },
  rate: { code: 'RATE_LIMITED', retryable: true, what: 'Ezviz’s call limit was reached' },
  token: { code: 'EZVIZ_TOKEN', retryable: true, what: 'the Ezviz access token was refused' },
  no_device: { code: 'NO_DEVICE', retryable: false, what: 'Ezviz does not know this camera' },
  malformed: { code: 'MALFORMED', retryable: false, what: 'Ezviz answered something malformed' },
};

/** Any error a step threw, as a ClipError (`what`: the step, for the message). */
export function classifyError(error: unknown, what: string): ClipError {
  if (error instanceof ClipError) return error;
  if (error instanceof EzvizError) {
    const known = EZVIZ_KINDS[error.kind];
    if (known !== undefined)
      return new ClipError(known.code, `${what}: ${known.what} (Ezviz ${error.code}: ${error.message})`, {
        retryable: known.retryable,
        cause: error,
      });
    return new ClipError(`EZVIZ_${error.code}`, `${what}: Ezviz ${error.code}: ${error.message}`, {
      retryable: error.retryable,
      cause: error,
    });
  }
  if (error instanceof MediaError)
    return new ClipError(error.code, `${what}: ${error.message}`, {
      retryable: error.retryable,
      cause: error,
    });
  const err = toError(error);
  return new ClipError('INTERNAL', `${what}: ${err.message}`, { retryable: true, cause: err });
}
