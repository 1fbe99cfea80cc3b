/**
 * What an object store refuses, as typed errors with a code: a key that does not exist, a key
 * that is not a valid object name, a byte range past the object's end, a store URL it cannot open.
 * Anything else (the disk, the network, the S3 service) is passed on as the error it was.
 */

export const OBJECT_STORE_ERRORS = [
  'NOT_FOUND',
  'INVALID_KEY',
  'RANGE_NOT_SATISFIABLE',
  'INVALID_URL',
] as const;
export type ObjectStoreErrorCode = (typeof OBJECT_STORE_ERRORS)[number];

export class ObjectStoreError extends Error {
  readonly code: ObjectStoreErrorCode;
  constructor(code: ObjectStoreErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ObjectStoreError';
    this.code = code;
  }
}

/** `get` or `move` of a key the store does not have. */
export class ObjectNotFoundError extends ObjectStoreError {
  readonly key: string;
  constructor(key: string, options?: ErrorOptions) {
    super('NOT_FOUND', `No object ${key}`, options);
    this.name = 'ObjectNotFoundError';
    this.key = key;
  }
}

/** A range that starts at or past the end of the object (HTTP 416); `size` is the object's. */
export class RangeNotSatisfiableError extends ObjectStoreError {
  readonly key: string;
  readonly size: number;
  constructor(key: string, start: number, size: number) {
    super('RANGE_NOT_SATISFIABLE', `Range start ${start} is past the end of ${key} (${size} bytes)`);
    this.name = 'RangeNotSatisfiableError';
    this.key = key;
    this.size = size;
  }
}
