/**
 * Typed errors of the agent's updates (metadata, download, install), each with a stable `code`
 * the agent reports as the reason of a `failed` state. Imports nothing of the hub.
 */
export type UpdateErrorCode =
  /** The timestamp (or another role) is past its expiry: a frozen mirror. */
  | 'TUF_EXPIRED'
  /** Metadata older than what the edge already trusts. */
  | 'TUF_ROLLBACK'
  /** A signature that does not verify, or too few of them. */
  | 'TUF_SIGNATURE'
  /** Metadata files from two releases (snapshot and targets disagree). */
  | 'TUF_MIXED'
  /** The signed targets do not name this path. */
  | 'TUF_UNKNOWN_TARGET'
  /** Bytes whose SHA-256 is not the signed one, from every mirror. */
  | 'HASH_MISMATCH'
  /** No mirror delivered the artifact (errors, timeouts). */
  | 'DOWNLOAD_FAILED'
  /** The disk filled while writing. */
  | 'DISK_FULL'
  /** The package's install hook failed. */
  | 'INSTALL_FAILED'
  /** The new version did not report healthy within the deadline. */
  | 'HEALTH_TIMEOUT';

export class UpdateError extends Error {
  readonly code: UpdateErrorCode;
  constructor(code: UpdateErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'UpdateError';
    this.code = code;
  }
}
