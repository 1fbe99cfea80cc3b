/**
 * Why an artifact upload was refused, each code with its HTTP status: the codes the API answers
 * (`{"error": {code, message}}`) and the `reason` label of the upload counter on /metrics.
 */
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export const ARTIFACT_REFUSALS = {
  /** The body is larger than the gateway's bound (2 GB by default). */
  TOO_LARGE: 413,
  /** The body ended before Content-Length bytes, or the client went away mid-body. */
  TRUNCATED: 400,
  /** The body's SHA-256 is not the `x-content-sha256` the client sent. */
  HASH_MISMATCH: 400,
  /** A body of no bytes. */
  EMPTY: 400,
  /** More bytes than Content-Length said. */
  LENGTH_MISMATCH: 400,
  /** The name/version holds other bytes, or these bytes are another name/version. */
  CONFLICT: 409,
} as const satisfies Record<string, ContentfulStatusCode>;
export type ArtifactRefusal = keyof typeof ARTIFACT_REFUSALS;

export class ArtifactError extends Error {
  readonly code: ArtifactRefusal;
  readonly details: unknown;
  constructor(code: ArtifactRefusal, message: string, details?: unknown) {
    super(message);
    this.name = 'ArtifactError';
    this.code = code;
    this.details = details;
  }

  get status(): ContentfulStatusCode {
    return ARTIFACT_REFUSALS[this.code];
  }
}
