/**
 * `devicehub_edge_log_lines_total{outcome}`: edges' log lines as every link process counted them
 * (edge/link/log-intake.ts; summed in Redis, `edgeLogLines`): accepted into the log shipper,
 * dropped over an edge's lines/s or bytes/day at the hub, malformed batches (dead-lettered), and
 * lines that arrived while no log store was set. Read at scrape time, as the dead-letter totals.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Bus } from '../bus/mod.ts';
import { EDGE_LOG_OUTCOMES } from '../edge/link/mod.ts';

export function edgeLogMetrics(registry: Registry, { bus }: { bus: Bus }): void {
  new Gauge({
    name: 'devicehub_edge_log_lines_total',
    help: 'Edges’ log lines the links took, by outcome: accepted, dropped_rate, dropped_bytes, malformed (batches), no_store',
    labelNames: ['outcome'],
    registers: [registry],
    async collect() {
      const counts = await bus.redis.hgetall(bus.keyspace.edgeLogLines);
      for (const outcome of EDGE_LOG_OUTCOMES) this.set({ outcome }, Number(counts[outcome] ?? 0));
    },
  });
}
