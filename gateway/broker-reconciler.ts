/**
 * Brings the MQTT broker's edge identities in line with the registry, periodically, on every
 * gateway (each pass is idempotent): an edge the broker knows but the registry does not (a
 * deregistration whose database step failed, a registration rolled back after the broker took it,
 * an identity added by hand) is removed, and its sessions are kicked. An edge the registry holds
 * but the broker does not cannot be restored here — the registry keeps only a hash of its secret —
 * so it is counted and logged: rotating its secret (`POST /v1/edges/{id}/secret`) recreates it.
 * Also makes sure, once, that the hub's link users exist and every default access is denied.
 */
import { type Logger, silentLogger } from '../actors/mod.ts';
import type { BrokerIdentities } from '../edge/broker/mod.ts';
import type { Db } from './db/database.ts';
import { edges } from './db/schema.ts';

export interface BrokerReconcilerOptions {
  readonly db: Db;
  readonly identities: BrokerIdentities;
  /** Between passes (0: no periodic pass). */
  readonly intervalMs: number;
  /** Link users the gateway makes sure of before its first pass (user → password). */
  readonly links?: Readonly<Record<string, string>>;
  readonly logger?: Logger;
}

export interface ReconcileResult {
  /** Broker identities removed: no such edge in the registry. */
  readonly removed: readonly string[];
  /** Registered edges the broker does not know (their secret must be rotated). */
  readonly missing: readonly string[];
}

export class BrokerReconciler implements AsyncDisposable {
  readonly #o: BrokerReconcilerOptions;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> = Promise.resolve();
  #hubReady = false;
  #stopped = false;

  constructor(options: BrokerReconcilerOptions) {
    this.#o = options;
    this.#log = (options.logger ?? silentLogger).child({ component: 'broker-reconciler' });
  }

  start(): this {
    const interval = this.#o.intervalMs;
    if (interval <= 0) {
      // No periodic pass: the hub's side is still made sure of, once.
      this.#running = this.#ensureHub().catch((err: unknown) =>
        this.#log.warn({ err }, 'link users not made sure of on the broker'),
      );
      return this;
    }
    const loop = () => {
      this.#running = this.reconcile()
        .catch((err: unknown) =>
          this.#log.warn({ err }, 'broker not reconciled with the registry; the next pass retries'),
        )
        .finally(() => {
          if (this.#stopped) return;
          this.#timer = setTimeout(loop, interval);
          this.#timer.unref();
        });
    };
    // The first pass soon after start, with a jitter so gateways started together spread out.
    this.#timer = setTimeout(loop, Math.min(interval, 1000 + Math.random() * 2000));
    this.#timer.unref();
    return this;
  }

  /** One pass: the broker's edges are read before the registry, so an edge being registered meanwhile is never removed. */
  async reconcile(): Promise<ReconcileResult> {
    const { identities, db } = this.#o;
    await this.#ensureHub();
    const onBroker = await identities.listEdges();
    const registered = new Set((await db.select({ id: edges.id }).from(edges)).map((r) => r.id));
    const removed = onBroker.filter((id) => !registered.has(id));
    if (removed.length > 0) {
      await identities.removeEdges(removed);
      this.#log.warn(
        { count: removed.length, edges: removed.slice(0, 20) },
        'removed broker identities of unregistered edges',
      );
    }
    const known = new Set(onBroker);
    const missing = [...registered].filter((id) => !known.has(id));
    if (missing.length > 0) {
      this.#log.warn(
        { count: missing.length, edges: missing.slice(0, 20) },
        'registered edges unknown to the broker cannot connect: rotate their secrets (POST /v1/edges/{id}/secret)',
      );
    }
    return { removed, missing };
  }

  async #ensureHub(): Promise<void> {
    if (this.#hubReady || this.#o.links === undefined) return;
    await this.#o.identities.ensureHub(this.#o.links);
    this.#hubReady = true;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
