/** Typed errors of the hub's TUF repository, each with a code that says what failed. */
export type TufErrorCode =
  /** The keys folder is missing, unreadable, or a key file is not an ed25519 PKCS8 PEM (terminal). */
  | 'TUF_KEYS'
  /** roles.json is missing a role or has a threshold / expiry out of range (terminal). */
  | 'TUF_ROLES'
  /** The keys or thresholds differ from the root the database holds: a root rotation, not supported (terminal). */
  | 'TUF_ROOT_MISMATCH'
  /** A target path or its hash/length is not acceptable (terminal for that target). */
  | 'TUF_TARGET';

export class TufError extends Error {
  readonly code: TufErrorCode;
  constructor(code: TufErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'TufError';
    this.code = code;
  }
}
