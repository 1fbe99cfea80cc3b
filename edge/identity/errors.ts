/**
 * Why the fleet's certificate authority refused something. Every code is terminal for the input
 * that caused it (a new CSR, key or option may succeed); none is retryable as is.
 */
export class IdentityError extends Error {
  readonly code:
    | 'INVALID_OPTION'
    | 'INVALID_EDGE_ID'
    | 'CA_MISSING'
    | 'CA_INCOMPLETE'
    | 'CA_MALFORMED'
    | 'CA_KEY_MISMATCH'
    | 'CA_EXPIRED'
    | 'CSR_MALFORMED'
    | 'CSR_SIGNATURE'
    | 'CSR_SUBJECT_MISMATCH'
    | 'KEY_MALFORMED'
    | 'KEY_UNSUPPORTED'
    | 'SERIAL_MALFORMED';
  readonly retryable = false;
  constructor(code: IdentityError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IdentityError';
    this.code = code;
  }
}
