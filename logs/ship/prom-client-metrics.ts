/**
 * The log shipper's families (metrics.ts names them) in a prom-client registry — the gateway's
 * /metrics — read from `stats()` at each scrape; nothing is exported while `stats` gives
 * undefined (the process does not ship).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  LOG_BUFFER_BYTES,
  LOG_LINES_TOTAL,
  LOG_METRIC_HELP,
  LOG_QUEUED_LINES,
  LOG_STORE_UP,
} from './metrics.ts';
import type { LogShipperStats } from './types.ts';

export function registerLogShipperMetrics(
  registry: Registry,
  stats: () => LogShipperStats | undefined,
): void {
  new Counter({
    name: LOG_LINES_TOTAL,
    help: LOG_METRIC_HELP[LOG_LINES_TOTAL],
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const s = stats();
      if (s === undefined) return;
      this.inc({ outcome: 'shipped' }, s.shipped);
      this.inc({ outcome: 'dropped' }, s.dropped);
      this.inc({ outcome: 'buffered' }, s.buffered);
      this.inc({ outcome: 'resent' }, s.resent);
    },
  });
  const gauge = (name: keyof typeof LOG_METRIC_HELP, value: (s: LogShipperStats) => number) =>
    new Gauge({
      name,
      help: LOG_METRIC_HELP[name],
      registers: [registry],
      collect() {
        this.reset();
        const s = stats();
        if (s !== undefined) this.set(value(s));
      },
    });
  gauge(LOG_BUFFER_BYTES, (s) => s.bufferedBytes);
  gauge(LOG_QUEUED_LINES, (s) => s.queued);
  gauge(LOG_STORE_UP, (s) => (s.storeUp ? 1 : 0));
}
