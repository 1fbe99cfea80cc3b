/**
 * The log of a DeviceHub process: pino, one JSON object per line on stdout, so that the
 * container runtime (or systemd) keeps it and a shipper sends it on (docs/operations.md, Logs).
 * Every line has `service` (node, link, gateway, …), `host` and `pid`; library code adds the
 * shared fields (nodeId, edgeId, tunnelId, … see actors/logger.ts). Level from DH_LOG_LEVEL.
 */
import { hostname } from 'node:os';
import { type Logger, pino } from 'pino';

export function processLogger(service: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level: process.env.DH_LOG_LEVEL ?? 'info',
    base: { service, host: hostname(), pid: process.pid, ...bindings },
  });
}
