/**
 * Fleet-level signals on a gateway (docs/decisions/040-fleet-signals.md): an outbox sink handler
 * that keeps the presence hash (edge.online/edge.offline; the sink hands one edge's events over in
 * order, one gateway per tag group) and counts the alarms that pass it by kind, and a loop that
 * recounts the fleet per building under the `fleet-signals` lease (one gateway at a time).
 */
import { type Logger, silentLogger } from '../../actors/mod.ts';
import type { Bus } from '../../bus/mod.ts';
import { type LeasedJob, startLeasedJob } from '../leased-job.ts';
import type { OutboxItem } from '../outbox/events.ts';
import { type RecountResult, recountFleet } from './recount.ts';

/** The named lease the recount runs under. */
export const FLEET_SIGNALS_LEASE = 'fleet-signals';

/** Alarm kinds named in `devicehub_alarms_total` per process; later ones count as `other`. */
export const MAX_ALARM_KINDS = 64;

/** An alarm name fit for a label; others (an edge's garbage) count as `other`. */
const KIND_LABEL = /^[A-Za-z0-9_.:-]{1,48}$/;

export interface FleetSignalsOptions {
  /** Every registered edge's building, as of now (the gateway's FleetView.edgeBuildings). */
  readonly registry: () => ReadonlyMap<string, string>;
  readonly bus: Bus;
  /** This gateway's name in the lease. */
  readonly holder: string;
  /** Between recounts (default 30 s; 0: none, `recount()` by hand). */
  readonly intervalMs?: number;
  readonly logger?: Logger;
}

export class FleetSignals implements AsyncDisposable {
  /** Alarms (alarm.start) this gateway's sink handed on, by kind. */
  readonly alarms = new Map<string, number>();
  readonly #o: FleetSignalsOptions;
  readonly #log: Logger;
  #job: LeasedJob | undefined;

  constructor(options: FleetSignalsOptions) {
    this.#o = options;
    this.#log = (options.logger ?? silentLogger).child({ component: 'fleet-signals' });
  }

  /** The outbox sink handler: presence into the hash, alarms counted. Idempotent but for the count. */
  readonly record = async (items: readonly OutboxItem[]): Promise<void> => {
    const presence = new Map<string, '1' | '0'>();
    for (const { event } of items) {
      if (typeof event.edgeId !== 'string') continue;
      if (event.type === 'edge.online') presence.set(event.edgeId, '1');
      else if (event.type === 'edge.offline') presence.set(event.edgeId, '0');
    }
    if (presence.size > 0) await this.#o.bus.redis.hset(this.#o.bus.keyspace.presence, presence);
    // Counted after the write: a batch that fails here is handed over again, and counted once.
    for (const { event } of items) if (event.type === 'alarm.start') this.#countAlarm(event.alarm);
  };

  #countAlarm(alarm: unknown): void {
    let kind = typeof alarm === 'string' && KIND_LABEL.test(alarm) ? alarm : 'other';
    if (!this.alarms.has(kind) && this.alarms.size >= MAX_ALARM_KINDS) kind = 'other';
    this.alarms.set(kind, (this.alarms.get(kind) ?? 0) + 1);
  }

  start(): this {
    const intervalMs = this.#o.intervalMs ?? 30_000;
    if (intervalMs === 0) return this;
    this.#job = startLeasedJob({
      bus: this.#o.bus,
      lease: FLEET_SIGNALS_LEASE,
      holder: this.#o.holder,
      intervalMs,
      run: () => this.recount(),
      onError: (err) => this.#log.warn({ err }, 'fleet recount failed; the next one tries again'),
    });
    return this;
  }

  /** One recount of the fleet per building, stored for every gateway's /metrics. */
  async recount(): Promise<RecountResult> {
    const result = await recountFleet(this.#o.registry(), this.#o.bus);
    if (result.bootstrapped > 0 || result.removed > 0)
      this.#log.info(
        { bootstrapped: result.bootstrapped, removed: result.removed },
        'presence taken from actor checkpoints, or dropped for edges no longer registered',
      );
    return result;
  }

  async stop(): Promise<void> {
    await this.#job?.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
