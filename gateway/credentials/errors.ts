/** Why an edge-credentials step was refused. */
export class CredentialsError extends Error {
  readonly code: 'SEALED_INVALID' | 'KEY_MISSING';
  constructor(code: CredentialsError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CredentialsError';
    this.code = code;
  }
}
