/**
 * Seeds a synthetic alarm history for benchmarks (`devicehub seed alarms`): `rows` alarms over the
 * `months` months that end with this one, on `edges` edges (ids `seed-e000000`…, skewed: a few
 * edges raise many alarms) in buildings of ~25 (`seed-b0000`…), 20 kinds (skewed too). Fast: one
 * INSERT … SELECT from generate_series per month into a bare table, then ATTACH PARTITION, which
 * builds the indexes in bulk; idempotent: a month that already holds seeded rows is skipped.
 */
import { sql } from 'drizzle-orm';
import { monthStart, partitionName } from '../db/alarm-partitions.ts';
import type { Db } from '../db/database.ts';

export interface SeedAlarmsOptions {
  readonly rows: number;
  readonly months: number;
  /** How many edges (default 50,000); they are inserted in `edges` too (building labels). */
  readonly edges?: number;
  /** The last month seeded is this instant's (default now). */
  readonly now?: Date;
  /** Months seeded at once (default 2: one per core here; PGlite runs them one by one anyway). */
  readonly concurrency?: number;
  readonly onProgress?: (p: SeedProgress) => void;
}

export interface SeedProgress {
  readonly partition: string;
  readonly rows: number;
  /** Already seeded: left as it was. */
  readonly skipped: boolean;
  readonly ms: number;
  /** Months finished so far, of `total`. */
  readonly done: number;
  readonly total: number;
}

export interface SeedResult {
  readonly seeded: readonly string[];
  readonly skipped: readonly string[];
  /** Rows inserted by this run. */
  readonly rows: number;
  readonly ms: number;
}

export const SEED_KINDS = [
  'trapped',
  'door_open_moving',
  'ebike',
  'overspeed',
  'power_loss',
  'door_fault',
  'stop_between_floors',
  'brake_fault',
  'smoke',
  'water',
  'overload',
  'camera_offline',
  'emergency_call',
  'leveling',
  'vibration',
  'temperature',
  'motor_fault',
  'light_off',
  'fall',
  'crowding',
] as const;

/** ~25 edges a building, as 50,000 edges in 2,000 buildings. */
export const seedBuildingCount = (edges: number) => Math.max(1, Math.round(edges / 25));
export const seedEdgeId = (i: number) => `seed-e${String(i).padStart(6, '0')}`;
export const seedBuilding = (i: number) => `seed-b${String(i).padStart(4, '0')}`;

const rowsOf = <T>(r: unknown): T[] => ((r as { rows?: T[] }).rows ?? r) as T[];
const count = (n: number, name: string) => {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer, not ${n}`);
  return n;
};

export async function seedAlarmHistory(db: Db, o: SeedAlarmsOptions): Promise<SeedResult> {
  const started = performance.now();
  const rows = count(o.rows, 'rows');
  const months = count(o.months, 'months');
  const edges = count(o.edges ?? 50_000, 'edges');
  if (edges > 999_999) throw new RangeError(`edges must be at most 999999, not ${edges}`);
  const buildings = seedBuildingCount(edges);
  await db.execute(
    sql.raw(`insert into edges (id, labels, secret_hash)
      select 'seed-e' || lpad(i::text, 6, '0'),
             jsonb_build_object('building', 'seed-b' || lpad((i % ${buildings})::text, 4, '0')), 'seed'
      from generate_series(0, ${edges - 1}) i on conflict (id) do nothing`),
  );
  const now = o.now ?? new Date();
  const plan = Array.from({ length: months }, (_, i) => {
    const year = now.getUTCFullYear();
    const month = now.getUTCMonth() - (months - 1 - i);
    const n = Math.floor(rows / months) + (i === months - 1 ? rows % months : 0);
    return { year, month, n, index: i };
  });
  const seeded: string[] = [];
  const skipped: string[] = [];
  let inserted = 0;
  let next = 0;
  const worker = async () => {
    for (let p = plan[next++]; p !== undefined; p = plan[next++]) {
      const t0 = performance.now();
      const done = await seedMonth(db, { ...p, edges });
      (done ? seeded : skipped).push(partitionName('alarms', p.year, p.month));
      if (done) inserted += p.n;
      o.onProgress?.({
        partition: partitionName('alarms', p.year, p.month),
        rows: done ? p.n : 0,
        skipped: !done,
        ms: performance.now() - t0,
        done: seeded.length + skipped.length,
        total: months,
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 2) }, worker));
  return { seeded, skipped, rows: inserted, ms: performance.now() - started };
}

/** One month: false when it was seeded already. */
async function seedMonth(
  db: Db,
  p: { year: number; month: number; n: number; index: number; edges: number },
): Promise<boolean> {
  const name = partitionName('alarms', p.year, p.month);
  const from = monthStart(p.year, p.month);
  const to = monthStart(p.year, p.month + 1);
  const [state] = rowsOf<{ exists: boolean }>(
    await db.execute(sql`select to_regclass(${name}) is not null as exists`),
  );
  let attach = true;
  if (state?.exists) {
    const [seen] = rowsOf<{ seeded: boolean; empty: boolean }>(
      await db.execute(
        sql.raw(`select exists (select 1 from ${name} where event_id like 'seed-%') as seeded,
                        not exists (select 1 from ${name}) as empty`),
      ),
    );
    if (seen?.seeded) return false;
    // An empty month (the gateway makes them ahead) is made again bare; one with real alarms is
    // filled in place, its indexes kept up row by row.
    if (seen?.empty) await db.execute(sql.raw(`drop table ${name}`));
    else attach = false;
  }
  if (attach)
    await db.execute(sql.raw(`create table ${name} (like alarms including defaults including constraints)`));
  const spanSeconds = (Date.UTC(p.year, p.month + 1, 1) - Date.UTC(p.year, p.month, 1)) / 1000;
  const kinds = SEED_KINDS.map((k) => `'${k}'`).join(',');
  const salt = p.index * 10_000_019;
  // r1, r2 in [0, 1): squared, they skew edges and kinds (a few of each take many alarms).
  await db.execute(
    sql.raw(`insert into ${name} (event_id, recorded_at, edge_id, alarm, phase, at, since)
      select 'seed-${p.index}-' || g, t,
             'seed-e' || lpad(floor(${p.edges} * r1 * r1)::int::text, 6, '0'),
             (array[${kinds}])[1 + floor(${SEED_KINDS.length} * r2 * r2)::int],
             case when g % 2 = 0 then 'end' else 'start' end,
             t - interval '1.5 seconds',
             case when g % 2 = 0 then t - interval '4 minutes' else null end
      from (select g,
                   timestamptz '${from}' + ((g - 1 + r1) * ${spanSeconds} / ${p.n}) * interval '1 second' as t,
                   r1, r2
            from (select g,
                         (hashint4(g + ${salt}) & 2147483647)::float8 / 2147483648 as r1,
                         (hashint4(g * 3 + ${salt + 7}) & 2147483647)::float8 / 2147483648 as r2
                  from generate_series(1, ${p.n}) g) r) s`),
  );
  if (attach) {
    // The CHECK spares ATTACH its scan of the rows; ATTACH builds each index in one pass.
    await db.execute(
      sql.raw(
        `alter table ${name} add constraint ${name}_bound check (recorded_at >= '${from}' and recorded_at < '${to}')`,
      ),
    );
    await db.execute(
      sql.raw(`alter table alarms attach partition ${name} for values from ('${from}') to ('${to}')`),
    );
    await db.execute(sql.raw(`alter table ${name} drop constraint ${name}_bound`));
  }
  await db.execute(sql.raw(`vacuum (analyze) ${name}`));
  return true;
}
