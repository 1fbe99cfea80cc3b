/**
 * The log shipper's Prometheus text, for the /metrics of the process it ships from:
 * `devicehub_log_lines_total{outcome="shipped|dropped|buffered|resent"}` (counters: acknowledged by the
 * store; dropped past the disk bound, refused as malformed or pushed after close; written to the
 * on-disk buffer, each line once; queued again after the store failed right after acknowledging
 * them), `devicehub_log_buffer_bytes` and `devicehub_log_queued_lines`
 * (gauges), `devicehub_log_store_up` (0 from a failed write to the next acknowledged one).
 * Written out here (a low layer: no metrics library); the gateway registers the same names with
 * prom-client from `stats()`.
 */
import type { LogShipperStats } from './types.ts';

export const LOG_LINES_TOTAL = 'devicehub_log_lines_total';
export const LOG_BUFFER_BYTES = 'devicehub_log_buffer_bytes';
export const LOG_QUEUED_LINES = 'devicehub_log_queued_lines';
export const LOG_STORE_UP = 'devicehub_log_store_up';

export const LOG_METRIC_HELP = {
  [LOG_LINES_TOTAL]:
    'Log lines of this process by outcome: shipped to the log store, dropped, buffered on disk, resent',
  [LOG_BUFFER_BYTES]: 'Bytes in the log shipper’s on-disk buffer',
  [LOG_QUEUED_LINES]: 'Log lines pushed and not yet in the log store (memory and disk)',
  [LOG_STORE_UP]: '1 while the log store takes writes, 0 from a failed write to the next acknowledged one',
} as const;

/** The shipper's families in Prometheus text exposition (0.0.4), ending with a newline. */
export function logShipperMetricsText(s: LogShipperStats): string {
  const family = (name: keyof typeof LOG_METRIC_HELP, type: string) =>
    `# HELP ${name} ${LOG_METRIC_HELP[name]}\n# TYPE ${name} ${type}\n`;
  return (
    family(LOG_LINES_TOTAL, 'counter') +
    `${LOG_LINES_TOTAL}{outcome="shipped"} ${s.shipped}\n` +
    `${LOG_LINES_TOTAL}{outcome="dropped"} ${s.dropped}\n` +
    `${LOG_LINES_TOTAL}{outcome="buffered"} ${s.buffered}\n` +
    `${LOG_LINES_TOTAL}{outcome="resent"} ${s.resent}\n` +
    family(LOG_BUFFER_BYTES, 'gauge') +
    `${LOG_BUFFER_BYTES} ${s.bufferedBytes}\n` +
    family(LOG_QUEUED_LINES, 'gauge') +
    `${LOG_QUEUED_LINES} ${s.queued}\n` +
    family(LOG_STORE_UP, 'gauge') +
    `${LOG_STORE_UP} ${s.storeUp ? 1 : 0}\n`
  );
}
