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

/**
 * Configuration that cannot work (terminal: the same settings fail again), with the option and
 * value at fault: a hub node's options, or a process's environment variable (`variable`, named by
 * `checkEnvironment` in cli/settings.ts). The one configuration error of the code base.
 *
 * A fenced commit has no error class: `commit.lua` answers per shard, a group's other shards
 * commit, and the node treats a fenced shard as an outcome (drops it, counts it), never a throw.
 */
export class ConfigError extends Error {
  readonly code = 'CONFIG';
  readonly retryable = false;
  /** The environment variable at fault, when the configuration came from the environment. */
  readonly variable: string | undefined;
  constructor(message: string, options: { variable?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ConfigError';
    this.variable = options.variable;
  }
}
