import type { Logger } from '../../actors/logger.ts';
import {
  type LogPage,
  type LogQuery,
  type LogRecord,
  type LogStore,
  LogStoreError,
  type TailFilter,
} from './types.ts';

/** VictoriaLogs as a LogStore (being built; see docs/decisions/036-log-store.md). */
export class VictoriaLogsStore implements LogStore {
  readonly kind = 'victorialogs';
  readonly url: URL;
  constructor(url: URL, _options: { logger?: Logger } = {}) {
    this.url = url;
  }
  async write(_records: readonly LogRecord[], _signal?: AbortSignal): Promise<void> {
    throw new LogStoreError('UNREACHABLE', 'not yet implemented');
  }
  async query(_q: LogQuery, _signal?: AbortSignal): Promise<LogPage> {
    throw new LogStoreError('UNREACHABLE', 'not yet implemented');
  }
  tail(_filter: TailFilter, _signal: AbortSignal): AsyncIterable<LogRecord> {
    throw new LogStoreError('UNREACHABLE', 'not yet implemented');
  }
  async [Symbol.asyncDispose](): Promise<void> {}
}
