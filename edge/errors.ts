/**
 * A device message the hub cannot take, with the reason; links count and dead-letter it. The
 * decoders throw nothing else: any other error reaching a link is a bug, dead-lettered as
 * `INTERNAL` (and logged at error level) so it costs that message only.
 */
export class DecodeError extends Error {
  readonly code:
    | 'NOT_JSON'
    | 'UNKNOWN_TYPE'
    | 'INVALID_FIELD'
    | 'EDGE_MISMATCH'
    | 'TOO_LARGE'
    | 'TOO_DEEP'
    | 'BAD_HEADER'
    | 'BAD_TOPIC'
    | 'UNKNOWN_EDGE'
    | 'INTERNAL';
  constructor(code: DecodeError['code'], message: string) {
    super(message);
    this.name = 'DecodeError';
    this.code = code;
  }
}

export { MAX_DEVICE_MESSAGE_BYTES } from './limits.ts';
