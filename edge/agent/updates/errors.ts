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
  | 'HEALTH_TIMEOUT'
  /** An `update` command whose args are not UpdateCommandArgs (terminal). */
  | 'BAD_UPDATE'
  /** An `update` command for another rollout while a job runs (the hub tries again later). */
  | 'BUSY'
  /** The agent restarted while installing: the running slot is kept. */
  | 'INTERRUPTED';

export class UpdateError extends Error {
  readonly code: UpdateErrorCode;
  constructor(code: UpdateErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'UpdateError';
    this.code = code;
  }
}

/** A write that failed because the disk is full (ENOSPC, or a quota: EDQUOT). */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** The reason a `failed` or `rolled_back` state carries: the code first, then what happened. */
export function reasonOf(error: unknown): string {
  if (error instanceof UpdateError) return `${error.code}: ${error.message}`;
  if (isDiskFull(error)) return `DISK_FULL: ${error instanceof Error ? error.message : String(error)}`;
  return `INSTALL_FAILED: ${error instanceof Error ? error.message : String(error)}`;
}
