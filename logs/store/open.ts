import { type LogStore, LogStoreError } from './types.ts';
import { VictoriaLogsStore, type VictoriaLogsStoreOptions } from './victorialogs.ts';

/** `logger`, and VictoriaLogs' timeouts and tail settings. */
export type OpenLogStoreOptions = VictoriaLogsStoreOptions;

/**
 * The log store at `url` (the setting DEVICEHUB_LOG_STORE): `http(s)://host:port` is VictoriaLogs
 * (e.g. `http://127.0.0.1:9428`). Another store (Aliyun SLS, Loki) would get a scheme of its own
 * here (docs/decisions/036-log-store.md). Opening connects to nothing; the first call does.
 */
export function openLogStore(url: string, options: OpenLogStoreOptions = {}): LogStore {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new LogStoreError('INVALID_URL', `Log store URL ${JSON.stringify(url)} is not a URL`, { cause });
  }
  if (parsed.protocol === 'http:' || parsed.protocol === 'https:') {
    return new VictoriaLogsStore(parsed, options);
  }
  throw new LogStoreError(
    'INVALID_URL',
    `Log store URL ${JSON.stringify(url)}: only http(s):// (VictoriaLogs) is supported`,
  );
}
