/**
 * How far behind the read replica is, measured by this process every `pollMs`: a heartbeat row of
 * its own written on the primary (a counter, `replica_heartbeats`, migration 0013), then read back
 * on the replica with the replica's replay position. The replica's lag is the age of the oldest
 * heartbeat it has not shown yet (0 when it shows the last one): true visibility lag, in this
 * process's own clock, and no false lag while the primary is idle (the heartbeats are its
 * traffic). A probe that fails marks the replica down; one that hangs leaves the state stale,
 * which the router counts as down too (docs/decisions/044).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { type Logger, silentLogger } from '../../actors/mod.ts';
import type { Db } from './database.ts';
import { parseLsn } from './lsn.ts';

export interface ReplicaState {
  /** The last probe reached the replica and it is in recovery (a standby). */
  readonly up: boolean;
  /** Its lag when last probed, ms (undefined while down). */
  readonly lagMs: number | undefined;
  /** Its replay position when last probed (0 while down). */
  readonly replayLsn: bigint;
  /** When the last probe ended, performance.now() ms. */
  readonly at: number;
  /** Why it is down, when it is. */
  readonly error?: string;
}

export interface ReplicaProbeOptions {
  readonly primary: Db;
  readonly replica: Db;
  /** Between probes (default 250 ms). */
  readonly pollMs?: number;
  /** This process's heartbeat row (default `<host>-<pid>-<random>`). */
  readonly writer?: string;
  readonly logger?: Logger;
}

/** Rows of a drizzle `execute` on either driver (postgres.js: the rows; PGlite: `{ rows }`). */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : ((result as { rows?: T[] }).rows ?? [])) as T[];
}

export class ReplicaProbe implements AsyncDisposable {
  readonly writer: string;
  /** The largest lag measured since start, ms (the bench's replicaLagMsMax). */
  maxLagMs = 0;
  #state: ReplicaState = { up: false, lagMs: undefined, replayLsn: 0n, at: 0, error: 'not probed yet' };
  readonly #primary: Db;
  readonly #replica: Db;
  readonly #pollMs: number;
  readonly #log: Logger;
  /** Heartbeats written and not seen on the replica yet: counter → when written (performance.now()). */
  readonly #sent = new Map<number, number>();
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(o: ReplicaProbeOptions) {
    const { pollMs = 250 } = o;
    if (!Number.isInteger(pollMs) || pollMs < 10 || pollMs > 60_000)
      throw new RangeError(`Cannot probe the replica: pollMs must be 10..60000, got ${pollMs}`);
    this.#primary = o.primary;
    this.#replica = o.replica;
    this.#pollMs = pollMs;
    this.writer = o.writer ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.#log = (o.logger ?? silentLogger).child({ component: 'replica-probe' });
  }

  get state(): ReplicaState {
    return this.#state;
  }

  /** Probes once (and clears heartbeats an hour old), then every `pollMs` until stopped. */
  async start(): Promise<this> {
    await this.#primary
      .execute(sql`delete from replica_heartbeats where at < now() - interval '1 hour'`)
      .catch((err: unknown) => this.#log.warn({ err }, 'old replica heartbeats not cleared'));
    await this.probe();
    this.#schedule();
    return this;
  }

  /** One probe now: a heartbeat on the primary, then the replica's view of it. */
  probe(): Promise<void> {
    this.#running ??= this.#probe().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** The replica's replay position right now (one query), or undefined when it does not answer. */
  async replayLsn(): Promise<bigint | undefined> {
    try {
      const [row] = rowsOf<{ replay: string | null }>(
        await this.#replica.execute(sql`select pg_last_wal_replay_lsn()::text as replay`),
      );
      return row?.replay ? parseLsn(row.replay) : undefined;
    } catch {
      return undefined;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    // A probe in flight gets 2 s: one hung on a stalled replica must not hold a shutdown (the
    // database's close then ends its connection).
    await Promise.race([this.#running, sleep(2_000, undefined, { ref: false })]);
    await this.#primary
      .execute(sql`delete from replica_heartbeats where writer = ${this.writer}`)
      .catch(() => {});
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      void this.probe().finally(() => this.#schedule());
    }, this.#pollMs);
    this.#timer.unref();
  }

  async #probe(): Promise<void> {
    const seq = this.#seq + 1;
    try {
      await this.#primary.execute(sql`
        insert into replica_heartbeats (writer, seq, at) values (${this.writer}, ${seq}, now())
        on conflict (writer) do update set seq = excluded.seq, at = excluded.at`);
      this.#seq = seq;
      this.#sent.set(seq, performance.now());
    } catch (err) {
      // The primary is away: the replica is measured against the heartbeats written before.
      this.#log.debug({ err }, 'replica heartbeat not written');
    }
    try {
      const [row] = rowsOf<{ standby: boolean; replay: string | null; seq: string | number | null }>(
        await this.#replica.execute(sql`
          select pg_is_in_recovery() as standby, pg_last_wal_replay_lsn()::text as replay,
                 (select seq from replica_heartbeats where writer = ${this.writer}) as seq`),
      );
      if (row?.standby !== true)
        throw new Error('DATABASE_REPLICA_URL is not a standby (pg_is_in_recovery false)');
      const seen = Number(row.seq ?? 0);
      for (const n of this.#sent.keys()) if (n <= seen) this.#sent.delete(n);
      const now = performance.now();
      // The oldest heartbeat not shown yet: the replica is at least that far behind.
      const oldest = this.#sent.values().next();
      const lagMs = oldest.done ? 0 : now - oldest.value;
      this.maxLagMs = Math.max(this.maxLagMs, lagMs);
      const wasDown = !this.#state.up;
      this.#state = { up: true, lagMs, replayLsn: row.replay ? parseLsn(row.replay) : 0n, at: now };
      if (wasDown && this.#seq > 0) this.#log.info({ lagMs }, 'read replica up');
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      if (this.#state.up) this.#log.warn({ err }, 'read replica down: reads go to the primary');
      this.#state = { up: false, lagMs: undefined, replayLsn: 0n, at: performance.now(), error };
    }
  }
}
