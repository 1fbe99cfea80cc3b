/**
 * Where a heavy read goes (alarm, audit, tunnel and clip history): the streaming read replica,
 * unless the caller wrote recently and the replica has not replayed that write yet, or the
 * replica is down or lagging past `maxLagMs` — then the primary. Never a stale answer to the
 * caller that wrote, never an error because the replica is away (docs/decisions/044).
 *
 * Read-your-writes across gateway processes: after a write, `wrote(caller)` reads the primary's
 * WAL insert position (after the commit, so past the commit record) and keeps it in Redis for the
 * caller (the later of two positions wins: bus/lua/read-after.lua), expiring once the replica must
 * have caught up. `db(caller)` reads the token (one GET) and compares it with the replica's replay
 * position; any gateway sees the token, whichever one took the write.
 */
import { sql } from 'drizzle-orm';
import type { Logger } from '../../actors/mod.ts';
import { type Bus, markReadAfter, readAfter } from '../../bus/mod.ts';
import type { Db } from './database.ts';
import { lsnKey, lsnOfKey, parseLsn } from './lsn.ts';
import { ReplicaProbe, rowsOf } from './replica-probe.ts';

export interface ReadRouter {
  /** The database for a heavy read by this caller: the replica, unless the caller wrote within the replica's lag, or
   *  the replica is down or lagging past maxLagMs; then the primary. */
  db(callerId: string): Promise<Db>;
  /** After a write by this caller (the API key / user id): its next reads see it (read-your-writes, across gateway processes). */
  wrote(callerId: string): Promise<void>;
  /** What /metrics shows (gateway/db/read-metrics.ts). */
  stats?(): ReadRouterStats;
}

/** Why a read went where it went: the `reason` label of devicehub_db_reads_total. */
export const READ_REASONS = {
  replica: ['no_recent_write', 'caught_up'],
  primary: ['recent_write', 'replica_down', 'replica_lagging', 'no_replica', 'token_unknown'],
} as const;
export type ReadTarget = keyof typeof READ_REASONS;
export type ReadReason = (typeof READ_REASONS)[ReadTarget][number];

export interface ReadRouterStats {
  /** Reads routed, by `<target>|<reason>`. */
  readonly reads: ReadonlyMap<string, number>;
  /** Whether a replica is configured, and up when last probed. */
  readonly replica: 'none' | 'up' | 'down';
  /** The replica's lag when last probed, seconds (undefined: none, or down). */
  readonly lagSeconds: number | undefined;
}

export interface ReadRouterOptions {
  readonly primary: Db;
  /** The replica (`openDatabase({ url: DATABASE_REPLICA_URL, readOnly: true })`); none: every read is the primary's. */
  readonly replica?: Db;
  /** Redis: the callers' tokens, shared by every gateway. */
  readonly bus: Bus;
  /** Past this lag the replica is skipped (default 2000 ms). */
  readonly maxLagMs?: number;
  /** Between probes of the replica (default 250 ms). */
  readonly pollMs?: number;
  /** How long a caller's token lives (default the larger of 10 s and 4 × maxLagMs). */
  readonly readAfterMs?: number;
  readonly logger?: Logger;
}

/** The caller id a principal reads and writes as: `key:<id>` or `edge:<id>`. */
export function callerOf(principal: { readonly kind: string; readonly id: string }): string {
  return `${principal.kind}:${principal.id}`;
}

/** A router, its replica probed once before it resolves (none: every read goes to the primary). */
export async function startReadRouter(o: ReadRouterOptions): Promise<ReplicaReadRouter> {
  const router = new ReplicaReadRouter(o);
  await router.probe?.start();
  return router;
}

export class ReplicaReadRouter implements ReadRouter, AsyncDisposable {
  readonly probe: ReplicaProbe | undefined;
  readonly #primary: Db;
  readonly #replica: Db | undefined;
  readonly #bus: Bus;
  readonly #maxLagMs: number;
  readonly #staleMs: number;
  readonly #readAfterMs: number;
  readonly #log: Logger | undefined;
  readonly #reads = new Map<string, number>();

  constructor(o: ReadRouterOptions) {
    const { maxLagMs = 2000, pollMs = 250 } = o;
    if (!Number.isInteger(maxLagMs) || maxLagMs < 1)
      throw new RangeError(`Cannot route reads: maxLagMs must be a positive integer, got ${maxLagMs}`);
    const readAfterMs = o.readAfterMs ?? Math.max(10_000, 4 * maxLagMs);
    // A token must outlive what the lag bound lets through, or an expired one could send a read
    // to a replica that has not replayed the write yet.
    if (!Number.isInteger(readAfterMs) || readAfterMs < maxLagMs + 2 * pollMs)
      throw new RangeError(
        `Cannot route reads: readAfterMs must be at least maxLagMs + 2 × pollMs (${maxLagMs + 2 * pollMs}), got ${readAfterMs}`,
      );
    this.#primary = o.primary;
    this.#replica = o.replica;
    this.#bus = o.bus;
    this.#maxLagMs = maxLagMs;
    // A probe that has not ended for this long (a hung replica) counts as a replica down.
    this.#staleMs = maxLagMs + 2 * pollMs;
    this.#readAfterMs = readAfterMs;
    this.#log = o.logger;
    this.probe =
      o.replica === undefined
        ? undefined
        : new ReplicaProbe({
            primary: o.primary,
            replica: o.replica,
            pollMs,
            ...(o.logger === undefined ? {} : { logger: o.logger }),
          });
  }

  async db(callerId: string): Promise<Db> {
    const [target, reason] = await this.route(callerId);
    this.#reads.set(`${target}|${reason}`, (this.#reads.get(`${target}|${reason}`) ?? 0) + 1);
    return target === 'replica' && this.#replica !== undefined ? this.#replica : this.#primary;
  }

  /** Where `callerId`'s read goes and why (not counted: `db` counts). */
  async route(callerId: string): Promise<[ReadTarget, ReadReason]> {
    if (this.probe === undefined) return ['primary', 'no_replica'];
    const state = this.probe.state;
    if (!state.up || performance.now() - state.at > this.#staleMs) return ['primary', 'replica_down'];
    if (state.lagMs === undefined || state.lagMs > this.#maxLagMs) return ['primary', 'replica_lagging'];
    let token: string | undefined;
    try {
      token = await readAfter(this.#bus, callerId);
    } catch (err) {
      // Redis away: whether this caller wrote is unknown, so its read must not risk a stale answer.
      this.#log?.debug({ err }, 'read-your-writes token unknown');
      return ['primary', 'token_unknown'];
    }
    if (token === undefined) return ['replica', 'no_recent_write'];
    const needed = lsnOfKey(token);
    if (state.replayLsn >= needed) return ['replica', 'caught_up'];
    // The probe's position may be a few hundred ms old: ask the replica itself once.
    const now = await this.probe.replayLsn();
    return now !== undefined && now >= needed ? ['replica', 'caught_up'] : ['primary', 'recent_write'];
  }

  /**
   * Never throws: the write is committed already and its request must not fail now. Unrecorded
   * (Redis or the primary away), the caller's next reads may miss it for up to the replica's lag —
   * while Redis stays away they go to the primary anyway (`token_unknown`).
   */
  async wrote(callerId: string): Promise<void> {
    if (this.probe === undefined) return;
    try {
      // The insert position is at or past the end of the caller's commit record, even with
      // synchronous_commit off (the write position may still be before it).
      const [row] = rowsOf<{ lsn: string }>(
        await this.#primary.execute(sql`select pg_current_wal_insert_lsn()::text as lsn`),
      );
      if (row === undefined) throw new Error('the primary returned no WAL position');
      await markReadAfter(this.#bus, {
        caller: callerId,
        position: lsnKey(parseLsn(row.lsn)),
        ttlMs: this.#readAfterMs,
      });
    } catch (err) {
      this.#log?.warn({ err, caller: callerId }, 'a write was not recorded for read-your-writes');
    }
  }

  stats(): ReadRouterStats {
    const state = this.probe?.state;
    return {
      reads: this.#reads,
      replica: state === undefined ? 'none' : state.up ? 'up' : 'down',
      lagSeconds: state?.up && state.lagMs !== undefined ? state.lagMs / 1000 : undefined,
    };
  }

  async stop(): Promise<void> {
    await this.probe?.stop();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
