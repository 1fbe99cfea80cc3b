/**
 * The fleet signals on the gateway's /metrics: edges online, offline and never seen per building
 * (the last recount, one Redis GET per scrape, the same on every gateway: aggregate with max),
 * the recount's age, and the alarms this gateway's outbox sink handed on by kind (a counter: sum
 * the gateways' rates, since the sink's tag groups move between them).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Bus } from '../../bus/mod.ts';
import type { FleetSignals } from './fleet-signals.ts';
import { type FleetCounts, readFleetCounts } from './recount.ts';

export function fleetSignalMetrics(registry: Registry, bus: Bus, signals: FleetSignals): void {
  // One read of the stored counts serves the four gauges of a scrape.
  let read: { at: number; value: Promise<FleetCounts | undefined> } | undefined;
  const counts = () => {
    if (read === undefined || Date.now() - read.at > 1000)
      read = { at: Date.now(), value: readFleetCounts(bus) };
    return read.value;
  };
  const perBuilding = (name: string, help: string, pick: 'online' | 'offline' | 'never') =>
    new Gauge({
      name,
      help,
      labelNames: ['building'],
      registers: [registry],
      async collect() {
        this.reset();
        const c = await counts();
        for (const [building, n] of Object.entries(c?.buildings ?? {})) this.set({ building }, n[pick]);
      },
    });
  perBuilding(
    'devicehub_edges_online',
    'Registered edges online, by building (label building, else group, else none)',
    'online',
  );
  perBuilding(
    'devicehub_edges_offline',
    'Registered edges seen before and offline now, by building (label building, else group, else none)',
    'offline',
  );
  perBuilding(
    'devicehub_edges_never_seen',
    'Registered edges never heard from, by building (not installed, or never connected)',
    'never',
  );
  new Gauge({
    name: 'devicehub_fleet_signals_age_seconds',
    help: 'Age of the per-building edge counts (recounted every 30 s under the fleet-signals lease; -1: never)',
    registers: [registry],
    async collect() {
      const c = await counts();
      this.set(c === undefined ? -1 : Math.max(0, (Date.now() - c.at) / 1000));
    },
  });
  new Counter({
    name: 'devicehub_alarms_total',
    help: "Alarms (alarm.start) this gateway's outbox sink handed on, by kind (rate() is the alarm rate)",
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [kind, n] of signals.alarms) this.inc({ kind }, n);
    },
  });
}
