/**
 * The shipper of this process's own log lines (cli/log-shipping.ts sets it when
 * DEVICEHUB_LOG_STORE is set), for code that reports on it without owning it: the gateway's
 * /metrics (`registerLogShipperMetrics`).
 */
import type { LogShipper } from './types.ts';

let current: LogShipper | undefined;

export function setProcessLogShipper(shipper: LogShipper | undefined): void {
  current = shipper;
}

/** This process's shipper, when it ships. */
export function processLogShipper(): LogShipper | undefined {
  return current;
}
