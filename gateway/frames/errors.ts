/**
 * Why a frame upload was refused, each code with its HTTP status: the codes the API answers
 * (`{"error": {code, message}}`) and the `reason` label of the frame counter on /metrics.
 */
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export const FRAME_REFUSALS = {
  /** Edge credentials for another edge's path, or an API key (frames come from their edge). */
  FORBIDDEN: 403,
  /** A Content-Type other than image/jpeg. */
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** Over the gateway's bound (2 MiB by default): refused by Content-Length, or while streaming. */
  TOO_LARGE: 413,
  /** A body of no bytes. */
  EMPTY: 400,
  /** A body whose first bytes are not a JPEG's (FF D8 FF). */
  NOT_JPEG: 400,
  /** The body broke off (the client went away mid-body). */
  TRUNCATED: 400,
  /** The frame is stored already, with other bytes. */
  CONFLICT: 409,
} as const satisfies Record<string, ContentfulStatusCode>;
export type FrameRefusal = keyof typeof FRAME_REFUSALS;

export class FrameError extends Error {
  readonly code: FrameRefusal;
  readonly details: unknown;
  constructor(code: FrameRefusal, message: string, details?: unknown) {
    super(message);
    this.name = 'FrameError';
    this.code = code;
    this.details = details;
  }

  get status(): ContentfulStatusCode {
    return FRAME_REFUSALS[this.code];
  }
}
