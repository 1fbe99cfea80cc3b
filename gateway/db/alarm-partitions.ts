/**
 * The monthly partitions of the tables that grow with time (decision 045): `alarms` by
 * recorded_at and `clips` by requested_at; `alarms_y2026m11` holds November 2026 (UTC). The
 * gateway creates this month's and the next ones at start and once a day, so the default
 * partitions stay empty in normal running; retention drops whole months (listMonthlyPartitions
 * tells them).
 */
import { sql } from 'drizzle-orm';
import type { Db } from './database.ts';

/** The partitioned tables and their partition key. */
export const PARTITIONED = { alarms: 'recorded_at', clips: 'requested_at' } as const;
export type PartitionedTable = keyof typeof PARTITIONED;

/** `alarms_y2026m11` for (alarms, 2026, 10): month 0-based, may run past 11. */
export function partitionName(table: PartitionedTable, year: number, month: number): string {
  const d = new Date(Date.UTC(year, month, 1));
  return `${table}_y${d.getUTCFullYear()}m${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The first instant of a month (UTC) as a timestamptz literal; month may run past 11. */
export const monthStart = (year: number, month: number) =>
  `${new Date(Date.UTC(year, month, 1)).toISOString().slice(0, 10)} 00:00:00+00`;

/** Creates `table`'s partitions from `now`'s month through `monthsAhead` more; returns their names. */
export async function ensureMonthlyPartitions(
  db: Db,
  table: PartitionedTable,
  now = new Date(),
  monthsAhead = 2,
): Promise<string[]> {
  const names: string[] = [];
  // Every gateway process does this at start: one at a time (a transaction-scoped advisory lock),
  // since two `create table if not exists` of one partition at once fail in the second.
  await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('devicehub:monthly-partitions'))`);
    for (let i = 0; i <= monthsAhead; i++) {
      const year = now.getUTCFullYear();
      const month = now.getUTCMonth() + i;
      const name = partitionName(table, year, month);
      await tx.execute(
        sql.raw(
          `create table if not exists ${name} partition of ${table} for values from ('${monthStart(year, month)}') to ('${monthStart(year, month + 1)}')`,
        ),
      );
      names.push(name);
    }
  });
  return names;
}

/** The alarm history's partitions (and the clips' for the same months); the alarms' names. */
export async function ensureAlarmPartitions(db: Db, now = new Date(), monthsAhead = 2): Promise<string[]> {
  await ensureMonthlyPartitions(db, 'clips', now, monthsAhead);
  return ensureMonthlyPartitions(db, 'alarms', now, monthsAhead);
}

export interface MonthlyPartition {
  readonly name: string;
  /** The month's first instant, ms. */
  readonly from: number;
}

const rowsOf = <T>(r: unknown): T[] => ((r as { rows?: T[] }).rows ?? r) as T[];

/** `table`'s monthly partitions (by their names), oldest first; the default partition is not one. */
export async function listMonthlyPartitions(db: Db, table: PartitionedTable): Promise<MonthlyPartition[]> {
  const rows = rowsOf<{ name: string }>(
    await db.execute(
      sql`select c.relname as name from pg_inherits i
          join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
          where p.relname = ${table} order by c.relname`,
    ),
  );
  const re = new RegExp(`^${table}_y(\\d{4})m(\\d{2})$`);
  return rows.flatMap(({ name }) => {
    const m = re.exec(name);
    return m === null ? [] : [{ name, from: Date.UTC(Number(m[1]), Number(m[2]) - 1, 1) }];
  });
}
