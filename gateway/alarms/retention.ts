/**
 * Retention of the monthly partitions (decision 045): once an hour, one gateway in the cluster
 * (the named lease `partition-retention`) drops whole months past the kept ones — `alarms` and
 * `clips` — a catalog change, not a DELETE of millions of rows. A clips month is kept while any
 * of its clips is still `stored` (its objects not swept yet, clips/retention): the row is how the
 * sweeper finds them. The drop waits at most 2 s for its lock (lock_timeout), then tries again
 * next time, so a long history read never queues every other query on the table behind it.
 */

import { sql } from 'drizzle-orm';
import { type Logger, silentLogger } from '../../actors/mod.ts';
import type { Bus } from '../../bus/mod.ts';
import { listMonthlyPartitions, type PartitionedTable } from '../db/alarm-partitions.ts';
import type { Db } from '../db/database.ts';
import { type LeasedJob, startLeasedJob } from '../leased-job.ts';

/** The named lease (bus/keys.ts builds its key) that makes one gateway run the job. */
export const RETENTION_LEASE = 'partition-retention';
/** Months kept by default, this one included: a year of history and the month it started in. */
export const DEFAULT_KEEP_MONTHS = 13;

export interface RetentionOptions {
  readonly db: Db;
  readonly bus: Pick<Bus, 'holdLease'>;
  /** This gateway's name in the cluster's leases. */
  readonly holder: string;
  /** Months kept per table, this one included (default 13 each). */
  readonly keepMonths?: Partial<Record<PartitionedTable, number>>;
  /** Between passes (default 1 h). */
  readonly intervalMs?: number;
  readonly logger?: Logger;
  readonly now?: () => number;
}

/**
 * Drops `table`'s months that ended before the `keepMonths` newest (counting `now`'s); returns
 * the names dropped. Months it may not drop yet (clips still stored, a lock not had) stay.
 */
export async function dropExpiredPartitions(
  db: Db,
  table: PartitionedTable,
  keepMonths: number,
  now = Date.now(),
  log: Logger = silentLogger,
): Promise<string[]> {
  if (!Number.isSafeInteger(keepMonths) || keepMonths < 1)
    throw new RangeError(`keepMonths must be a positive integer, not ${keepMonths}`);
  const d = new Date(now);
  const oldestKept = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - (keepMonths - 1), 1);
  const dropped: string[] = [];
  for (const p of await listMonthlyPartitions(db, table)) {
    if (p.from >= oldestKept) continue;
    try {
      await db.transaction(async (tx) => {
        await tx.execute(sql`set local lock_timeout = '2s'`);
        if (table === 'clips') {
          const r = await tx.execute(
            sql.raw(`select exists (select 1 from ${p.name} where status = 'stored') as held`),
          );
          const held = (((r as { rows?: unknown }).rows ?? r) as { held: boolean }[])[0]?.held;
          if (held) throw new PartitionHeld(p.name);
        }
        await tx.execute(sql.raw(`drop table ${p.name}`));
      });
      dropped.push(p.name);
      log.info({ partition: p.name }, 'partition past retention dropped');
    } catch (error) {
      if (error instanceof PartitionHeld)
        log.info({ partition: p.name }, 'clips month kept: some clips still stored');
      else
        log.warn(
          { err: error, partition: p.name },
          'partition past retention not dropped; next pass tries again',
        );
    }
  }
  return dropped;
}

class PartitionHeld extends Error {
  readonly code = 'PARTITION_HELD';
}

/** The hourly retention pass under the lease; stop() it with the gateway. */
export function startPartitionRetention(o: RetentionOptions): LeasedJob {
  const log = (o.logger ?? silentLogger).child({ component: 'partition-retention' });
  const now = o.now ?? Date.now;
  return startLeasedJob({
    bus: o.bus,
    lease: RETENTION_LEASE,
    holder: o.holder,
    intervalMs: o.intervalMs ?? 3_600_000,
    run: async () => {
      for (const table of ['alarms', 'clips'] as const)
        await dropExpiredPartitions(o.db, table, o.keepMonths?.[table] ?? DEFAULT_KEEP_MONTHS, now(), log);
    },
    onError: (err) => log.warn({ err }, 'partition retention pass failed; the next one tries again'),
  });
}
