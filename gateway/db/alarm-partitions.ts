/**
 * The alarm history's monthly partitions (`alarms_y2026m11` holds November 2026 by recorded_at):
 * the gateway creates this month's and the next ones at start and once a day, so the default
 * partition stays empty in normal running. Dropping a month is `drop table alarms_yYYYYmMM`.
 */
import { sql } from 'drizzle-orm';
import type { Db } from './database.ts';

const name = (year: number, month: number) => `alarms_y${year}m${String(month + 1).padStart(2, '0')}`;
const day = (year: number, month: number) => new Date(Date.UTC(year, month, 1)).toISOString().slice(0, 10);

/** Creates the partitions from `now`'s month through `monthsAhead` more; returns their names. */
export async function ensureAlarmPartitions(db: Db, now = new Date(), monthsAhead = 2): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i <= monthsAhead; i++) {
    const year = now.getUTCFullYear();
    const month = now.getUTCMonth() + i;
    const table = name(year + Math.floor(month / 12), month % 12);
    await db.execute(
      sql.raw(
        `create table if not exists ${table} partition of alarms for values from ('${day(year, month)}') to ('${day(year, month + 1)}')`,
      ),
    );
    names.push(table);
  }
  return names;
}
