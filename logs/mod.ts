/**
 * Logs: one place for every process's and edge's log lines. `LogStore` is the interface a store
 * implements (VictoriaLogs is the one DeviceHub runs and tests; Aliyun SLS or Loki could be
 * another: docs/decisions/036-log-store.md), opened from the setting DEVICEHUB_LOG_STORE with
 * `openLogStore`; `normalizeLine` makes any line (text or bytes) one bounded, escaped line.
 * A low layer beside objects/: it imports bus/ and actors/logger.ts's Logger type, nothing above.
 *
 * Another store: a class implementing `LogStore` (store/types.ts: write a batch, query a page
 * newest first with an opaque cursor, tail until aborted, errors as LogStoreError codes — retry
 * on UNREACHABLE, not on REJECTED), picked by its URL's scheme in store/open.ts, that passes
 * the contract suite store/log-store.case.ts. Decision 036 maps Aliyun SLS's and Loki's APIs onto it.
 */
export { DEFAULT_MAX_LINE_BYTES, normalizeLine } from './store/normalize.ts';
export { type OpenLogStoreOptions, openLogStore } from './store/open.ts';
export type {
  LogLevel,
  LogPage,
  LogQuery,
  LogRecord,
  LogStore,
  LogStoreErrorCode,
  TailFilter,
} from './store/types.ts';
export {
  isLogLevel,
  LOG_LEVELS,
  LOG_STORE_ERRORS,
  LogStoreError,
  levelsAtLeast,
  MAX_QUERY_LIMIT,
} from './store/types.ts';
export { VictoriaLogsStore, type VictoriaLogsStoreOptions } from './store/victorialogs.ts';
