/**
 * Brings the MQTT broker's edge identities in line with the registry, periodically, on one gateway
 * at a time (the `broker-reconcile` lease: a pass reads every dynsec client and every edge id, so
 * at 100,000 edges it is not a thing for every process to do; each pass is idempotent): an edge the broker knows but the registry does not (a
 * deregistration whose database step failed, a registration rolled back after the broker took it,
 * an identity added by hand) is removed, and its sessions are kicked. An edge the registry holds
 * but the broker does not cannot be restored here — the registry keeps only a hash of its secret —
 * so it is counted and logged: rotating its secret (`POST /v1/edges/{id}/secret`) recreates it.
 * Also makes sure, once, that the hub's link users exist and every default access is denied.
 */
import { type Logger, silentLogger } from '../actors/mod.ts';
import type { Bus } from '../bus/mod.ts';
import type { BrokerIdentities } from '../edge/broker/mod.ts';
import type { Db } from './db/database.ts';
import { edges } from './db/schema.ts';
import { type LeasedJob, startLeasedJob } from './leased-job.ts';

/** The lease under which one gateway of the cluster runs the periodic pass. */
export const RECONCILE_LEASE = 'broker-reconcile';

export interface BrokerReconcilerOptions {
  readonly db: Db;
  readonly bus: Pick<Bus, 'holdLease'>;
  /** This gateway's name in the lease. */
  readonly holder: string;
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
  #job: LeasedJob | undefined;
  #hub: Promise<unknown> = Promise.resolve();
  #hubReady = false;
  #passes = 0;

  constructor(options: BrokerReconcilerOptions) {
    this.#o = options;
    this.#log = (options.logger ?? silentLogger).child({ component: 'broker-reconciler' });
  }

  start(): this {
    // The hub's side is made sure of at once on every gateway (it is cheap and idempotent).
    this.#hub = this.#ensureHub().catch((err: unknown) =>
      this.#log.warn({ err }, 'link users not made sure of on the broker; the next pass retries'),
    );
    const { intervalMs, bus, holder } = this.#o;
    if (intervalMs <= 0) return this;
    this.#job = startLeasedJob({
      bus,
      lease: RECONCILE_LEASE,
      holder,
      intervalMs,
      run: () => this.reconcile(),
      onError: (err) =>
        this.#log.warn({ err }, 'broker not reconciled with the registry; the next pass retries'),
    });
    return this;
  }

  /** Passes this gateway has run (periodic or asked for). */
  get passes(): number {
    return this.#passes;
  }

  /** One pass: the broker's edges are read before the registry, so an edge being registered meanwhile is never removed. */
  async reconcile(): Promise<ReconcileResult> {
    const { identities, db } = this.#o;
    this.#passes++;
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
    await this.#job?.stop();
    this.#job = undefined;
    await this.#hub;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
