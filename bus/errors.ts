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

/**
 * The connection closed while a read that moves entries into a pending list was in flight: the
 * read may have run on the server with its reply lost (retryable: read the pending entries again).
 */
export class ConnectionDroppedError extends BusError {
  constructor(message: string) {
    super('CONNECTION_DROPPED', message, { retryable: true });
    this.name = 'ConnectionDroppedError';
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
 * A bus script answered with a reply its operation cannot read (a script and its TypeScript
 * operation out of step, or a reply mangled on the way): never retried, the bus is misconfigured.
 */
export class ScriptReplyError extends BusError {
  readonly script: string;
  constructor(script: string, message: string) {
    super('SCRIPT_REPLY', `Cannot read the reply of ${script}.lua: ${message}`);
    this.name = 'ScriptReplyError';
    this.script = script;
  }
}

/** A bus script ran on a connection that was not opened with connectRedis() (its scripts are not defined). */
export class ScriptsNotLoadedError extends BusError {
  constructor(script: string) {
    super(
      'SCRIPTS_NOT_LOADED',
      `Cannot run script ${script}: the connection was not opened with connectRedis()`,
    );
    this.name = 'ScriptsNotLoadedError';
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
