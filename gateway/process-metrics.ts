/**
 * The gateway process's own metrics (prefixed `devicehub_gateway_`): prom-client's defaults — CPU,
 * memory, heap spaces, event-loop lag, GC pauses, the file descriptor limit — less those that walk
 * every open handle at each scrape, and the open file descriptors counted at most every
 * `OPEN_FDS_EVERY_MS`.
 *
 * A gateway holds a socket per wall screen's live stream and per long-poll. At 2,000 streams a
 * scrape spent ~7 of its ~12 ms listing `/proc/self/fd` and the active handles and resources, all
 * of it on the event loop, and every snapshot poll that fell due meanwhile waited for it
 * (bench/README "Screens": the bench scrapes every second, Prometheus every 15 s).
 */
import { existsSync, readdirSync } from 'node:fs';
import { collectDefaultMetrics, Gauge, type Registry } from 'prom-client';

/** How stale the open file descriptor count may be: Prometheus scrapes every 15 s. */
export const OPEN_FDS_EVERY_MS = 30_000;

/** prom-client's defaults that list every handle, resource or descriptor when scraped. */
const WALK_EVERY_HANDLE = [
  'process_open_fds',
  'nodejs_active_handles',
  'nodejs_active_handles_total',
  'nodejs_active_resources',
  'nodejs_active_resources_total',
  'nodejs_active_requests',
  'nodejs_active_requests_total',
];

export interface ProcessMetricsOptions {
  /** How stale the open file descriptor count may be (default OPEN_FDS_EVERY_MS). */
  readonly openFdsEveryMs?: number;
  /** The clock the count's age is read from (ms; default `performance.now`). */
  readonly now?: () => number;
}

export function processMetrics(registry: Registry, prefix: string, o: ProcessMetricsOptions = {}): void {
  const { openFdsEveryMs = OPEN_FDS_EVERY_MS, now = () => performance.now() } = o;
  collectDefaultMetrics({ register: registry, prefix });
  for (const name of WALK_EVERY_HANDLE) registry.removeSingleMetric(`${prefix}${name}`);
  if (!existsSync('/proc/self/fd')) return;
  let counted = { at: Number.NEGATIVE_INFINITY, fds: 0 };
  new Gauge({
    name: `${prefix}process_open_fds`,
    help: `Open file descriptors (counted at most every ${openFdsEveryMs / 1000} s)`,
    registers: [registry],
    collect() {
      const at = now();
      if (at - counted.at >= openFdsEveryMs) {
        // Less the descriptor readdir itself holds open while it lists them.
        counted = { at, fds: readdirSync('/proc/self/fd').length - 1 };
      }
      this.set(counted.fds);
    },
  });
}
