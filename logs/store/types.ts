/**
 * The log store's contract: what a log line is once it leaves a process (`LogRecord`), how it is
 * read back (`LogQuery` → `LogPage`, newest first, an opaque cursor for the next page) and tailed
 * live, and the one interface (`LogStore`) a store implements. VictoriaLogs is the store DeviceHub
 * runs and tests; Aliyun SLS or Loki would implement the same interface
 * (docs/decisions/036-log-store.md).
 */

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogRecord {
  /** ms since the epoch. */
  time: number;
  level: LogLevel;
  /** One line, already normalised (`normalizeLine`). */
  msg: string;
  /** 'node' | 'link' | 'gateway' | 'clips' | 'recognize' | 'agent' | 'elenet' | 'litefcccore' | … */
  service: string;
  host?: string;
  edgeId?: string;
  nodeId?: string;
  tunnelId?: string;
  /** Other flat fields of a pino line. */
  fields?: Record<string, string | number | boolean>;
}

export interface LogQuery {
  /** ms since the epoch, inclusive. */
  from: number;
  /** ms since the epoch, inclusive. */
  to: number;
  edgeId?: string;
  service?: string;
  /** This level or worse. */
  level?: LogLevel;
  /** Plain words (not LogsQL): every word must occur in the line, literally. */
  text?: string;
  /** At most 1000. */
  limit: number;
  /** Opaque: the `next` of the page before. */
  cursor?: string;
}

export interface LogPage {
  /** Newest first. */
  records: LogRecord[];
  /** Set when there may be more (older) records: pass it as the next query's `cursor`. */
  next?: string;
}

export type TailFilter = Omit<LogQuery, 'from' | 'to' | 'limit' | 'cursor'>;

export interface LogStore extends AsyncDisposable {
  /** 'victorialogs'. */
  readonly kind: string;
  /** Stores the records; throws LogStoreError. */
  write(records: readonly LogRecord[], signal?: AbortSignal): Promise<void>;
  /** Newest first; throws LogStoreError. */
  query(q: LogQuery, signal?: AbortSignal): Promise<LogPage>;
  /** Lines as they arrive, until the signal is aborted. */
  tail(filter: TailFilter, signal: AbortSignal): AsyncIterable<LogRecord>;
}

export const LOG_STORE_ERRORS = ['UNREACHABLE', 'REJECTED', 'BAD_QUERY', 'INVALID_URL'] as const;
export type LogStoreErrorCode = (typeof LOG_STORE_ERRORS)[number];

/**
 * What a log store refuses or cannot do: `UNREACHABLE` (connection refused, reset, timed out),
 * `REJECTED` (the store refused a write, with its message), `BAD_QUERY` (a query the caller
 * built wrong, or the store refused, with its message), `INVALID_URL` (openLogStore's URL).
 */
export class LogStoreError extends Error {
  readonly code: LogStoreErrorCode;
  constructor(code: LogStoreErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LogStoreError';
    this.code = code;
  }
}

/** The most records one query returns. */
export const MAX_QUERY_LIMIT = 1000;

/** `level` and every level worse than it. */
export function levelsAtLeast(level: LogLevel): LogLevel[] {
  return LOG_LEVELS.slice(LOG_LEVELS.indexOf(level));
}

/** True for a string that is one of the levels. */
export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}
