/**
 * Fleet-level signals for Prometheus (docs/decisions/040-fleet-signals.md): edges online, offline
 * and never seen per building, alarms by kind; the presence hash the outbox sink keeps, the
 * recount under a lease, the gauges and counter on the gateway's /metrics.
 */
export {
  FLEET_SIGNALS_LEASE,
  FleetSignals,
  type FleetSignalsOptions,
  MAX_ALARM_KINDS,
} from './fleet-signals.ts';
export { fleetSignalMetrics } from './metrics.ts';
export {
  type BuildingCounts,
  type FleetCounts,
  MAX_BUILDINGS,
  type RecountResult,
  readFleetCounts,
  recountFleet,
} from './recount.ts';
