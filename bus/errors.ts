/**
 * Typed errors of the bus. Each carries a stable `code` and says whether retrying can help.
 */
export class BusError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  constructor(code: string, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'BusError';
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** The cluster's stored layout (shards, tag groups) differs from this process's configuration. */
export class LayoutMismatchError extends BusError {
  constructor(message: string) {
    super('LAYOUT_MISMATCH', message);
    this.name = 'LayoutMismatchError';
  }
}

/** A mailbox entry that cannot be turned into a message (missing fields, bad JSON, bad address). */
export class MalformedEntryError extends BusError {
  constructor(message: string) {
    super('MALFORMED_ENTRY', message);
    this.name = 'MalformedEntryError';
  }
}

/** A message refused before it reaches Redis (bad address, payload too large). */
export class InvalidMessageError extends BusError {
  constructor(message: string) {
    super('INVALID_MESSAGE', message);
    this.name = 'InvalidMessageError';
  }
}

/** The port range has fewer free ports than asked for (retryable: tunnels close and free theirs). */
export class PortsExhaustedError extends BusError {
  constructor(message: string) {
    super('PORTS_EXHAUSTED', message, { retryable: true });
    this.name = 'PortsExhaustedError';
  }
}

/** A claim (e.g. one open tunnel per edge and service) is held by another owner, named here. */
export class ClaimTakenError extends BusError {
  readonly holder: string;
  constructor(message: string, holder: string) {
    super('CLAIM_TAKEN', message);
    this.name = 'ClaimTakenError';
    this.holder = holder;
  }
}

/**
 * Converts anything caught into an Error, keeping the original as the cause. Never throws itself
 * (a BigInt, a cycle or a hostile toJSON would make JSON.stringify throw inside a catch block).
 */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  let text: string;
  try {
    text = typeof value === 'string' ? value : String(JSON.stringify(value));
  } catch {
    text = `${typeof value} that cannot be shown as JSON`;
  }
  return new Error(text, { cause: value });
}

/** Fewer Redis replicas than asked acknowledged a write in time (retryable: it may be sent again). */
export class ReplicasNotReachedError extends BusError {
  constructor(message: string) {
    super('REPLICAS_NOT_REACHED', message, { retryable: true });
    this.name = 'ReplicasNotReachedError';
  }
}
