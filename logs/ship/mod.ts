/**
 * Shipping a process's log lines to the log store: `openLogShipper` batches records without
 * blocking, spills to a bounded on-disk buffer while the store is away and replays it in order
 * (docs/decisions/037-hub-log-shipping.md); `claimBufferDir` gives a process a buffer folder of
 * its own that its next run finds again; `pinoLineToRecord` turns a pino JSON line into a
 * LogRecord; `logShipperMetricsText` the shipper's Prometheus families (`registerLogShipperMetrics`
 * the same in a prom-client registry); `processLogShipper` the one shipping this process's lines.
 */
export { claimBufferDir, releaseBufferDir } from './buffer-dir.ts';
export {
  LOG_BUFFER_BYTES,
  LOG_LINES_TOTAL,
  LOG_METRIC_HELP,
  LOG_QUEUED_LINES,
  LOG_STORE_UP,
  logShipperMetricsText,
} from './metrics.ts';
export { pinoLevel, pinoLineToRecord } from './pino-record.ts';
export { processLogShipper, setProcessLogShipper } from './process-shipper.ts';
export { registerLogShipperMetrics } from './prom-client-metrics.ts';
export { openLogShipper } from './shipper.ts';
export type { LogShipper, LogShipperOptions, LogShipperStats } from './types.ts';
