/** What can go wrong managing Kafka credentials and ACLs, as a code. */
export type KafkaAuthErrorCode =
  /** The broker refused the admin's own login (wrong hub credentials, or no SCRAM-SHA-512). */
  | 'AUTHENTICATION_FAILED'
  /** The broker refused a change (its Kafka error code is in `kafkaCode`); retriable ones say so. */
  | 'REFUSED'
  /** The name may not be an edge's Kafka user (invalid edge id, or one of the hub's names). */
  | 'INVALID_USER'
  /** The broker's answer did not parse. */
  | 'PROTOCOL'
  /** The connection failed or closed before the answer. */
  | 'UNAVAILABLE';

export class KafkaAuthError extends Error {
  override readonly name = 'KafkaAuthError';
  readonly code: KafkaAuthErrorCode;
  /** Kafka's error code, when the broker answered with one. */
  readonly kafkaCode: number | undefined;
  /** Worth trying again (the broker or the connection was not ready). */
  readonly retriable: boolean;

  constructor(
    code: KafkaAuthErrorCode,
    message: string,
    options: { cause?: unknown; kafkaCode?: number; retriable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.kafkaCode = options.kafkaCode;
    this.retriable = options.retriable ?? code === 'UNAVAILABLE';
  }
}
