/**
 * Errors actors and the runtime raise. A handler throws `TerminalError` for a message that can
 * never succeed (it goes to the dead letters at once); any other error is retried up to the
 * node's `maxAttempts`, then dead-lettered with its message as the reason.
 */
export class TerminalError extends Error {
  readonly code: string;
  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'TerminalError';
    this.code = options.code ?? 'TERMINAL';
  }
}

/** A write was refused because this node no longer holds the shard's lease with its epoch. */
export class FencedError extends Error {
  readonly code = 'FENCED';
  readonly shard: number;
  constructor(shard: number, epoch: number) {
    super(`shard ${shard}: lease with epoch ${epoch} is no longer held; the write was refused`);
    this.name = 'FencedError';
    this.shard = shard;
  }
}

/** Node configuration that cannot work, with the option and value at fault. */
export class ConfigError extends Error {
  readonly code = 'CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
