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

/**
 * A broker refused a subscription (a SUBACK failure code, or a QoS it was not asked for): its ACLs
 * or its state say no. Retryable: an operator or the broker's own recovery may allow it later.
 */
export class SubscribeRefusedError extends Error {
  readonly code = 'SUBSCRIBE_REFUSED';
  readonly retryable = true;
  constructor(message: string) {
    super(message);
    this.name = 'SubscribeRefusedError';
  }
}

export { MAX_DEVICE_MESSAGE_BYTES } from './limits.ts';
