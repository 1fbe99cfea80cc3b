/**
 * The read router on the gateway's /metrics: devicehub_db_reads_total{target,reason} (where heavy
 * reads went and why: a replica down or lagging shows as reads on the primary with that reason),
 * devicehub_db_replica_lag_seconds and devicehub_db_replica_up (those two only with a replica configured).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { READ_REASONS, type ReadRouterStats } from './read-router.ts';

export function readRouterMetrics(registry: Registry, stats: () => ReadRouterStats): void {
  new Counter({
    name: 'devicehub_db_reads_total',
    help: 'Heavy reads (alarm, audit, tunnel, clip history) by the database that answered (replica, primary) and why',
    labelNames: ['target', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      const { reads } = stats();
      // Every series from the start (at 0), so a rate over a new reason has a baseline.
      for (const target of ['replica', 'primary'] as const)
        for (const reason of READ_REASONS[target])
          this.inc({ target, reason }, reads.get(`${target}|${reason}`) ?? 0);
    },
  });
  // No replica configured: no replica gauges.
  if (stats().replica === 'none') return;
  new Gauge({
    name: 'devicehub_db_replica_lag_seconds',
    help: 'How far the read replica was behind the primary at its last probe (heartbeats not shown yet); NaN while it is down',
    // One gateway process per core (node:cluster): the worst of them, not their sum.
    aggregator: 'max',
    registers: [registry],
    collect() {
      this.set(stats().lagSeconds ?? Number.NaN);
    },
  });
  new Gauge({
    name: 'devicehub_db_replica_up',
    help: 'Whether the read replica answered this gateway’s last probe (1) or not (0)',
    aggregator: 'min',
    registers: [registry],
    collect() {
      this.set(stats().replica === 'up' ? 1 : 0);
    },
  });
}
