/** A device message the hub cannot take, with the reason; adapters count and dead-letter it. */
export class DecodeError extends Error {
  readonly code:
    | 'NOT_JSON'
    | 'UNKNOWN_TYPE'
    | 'INVALID_FIELD'
    | 'EDGE_MISMATCH'
    | 'TOO_LARGE'
    | 'BAD_HEADER'
    | 'UNKNOWN_EDGE';
  constructor(code: DecodeError['code'], message: string) {
    super(message);
    this.name = 'DecodeError';
    this.code = code;
  }
}

/** Largest device message accepted, in bytes (legacy status ≈ 560 B; compact ≈ 10–60 B). */
export const MAX_DEVICE_MESSAGE_BYTES = 16 * 1024;
