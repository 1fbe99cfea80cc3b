/**
 * The alarm history at scale (issue 20 §4): `seedAlarmQueries` seeds N rows over M monthly
 * partitions (gateway/alarms/seed.ts, idempotent) and `measureAlarmQueries` times history pages
 * as GET /v1/alarms reads them (pageAlarms: the page and its clips) — by edge, by building, by
 * kind over a range, each the first page and then `next` cursor pages — and reports p50/p99 per
 * kind. The screens bench (slice G) calls both; run alone it starts its own PostgreSQL:
 *
 *   node --import tsx bench/alarm-queries.ts --rows 10000000 --months 12 [--edges 50000] [--keep]
 *
 * writes bench/results/alarm-queries.{json,md} and deletes the server's data unless --keep.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { mulberry32 } from '../edge/mod.ts';
import { type AlarmFilter, explainAlarmPage, pageAlarms } from '../gateway/alarms/history.ts';
import {
  SEED_KINDS,
  type SeedAlarmsOptions,
  type SeedResult,
  seedAlarmHistory,
  seedBuilding,
  seedBuildingCount,
  seedEdgeId,
} from '../gateway/alarms/seed.ts';
import type { Db } from '../gateway/db/database.ts';
import { quantile } from './quantile.ts';

export const seedAlarmQueries = (db: Db, o: SeedAlarmsOptions): Promise<SeedResult> =>
  seedAlarmHistory(db, o);

export interface AlarmQueryOptions {
  /** The seed's shape (edges, months, its last month). */
  readonly edges: number;
  readonly months: number;
  readonly now?: Date;
  /** Histories read per kind (default 100), each up to `pages` pages (default 3) of `limit` (50). */
  readonly samples?: number;
  readonly pages?: number;
  readonly limit?: number;
}

export interface AlarmQueryStats {
  readonly queries: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface AlarmQueryReport {
  readonly byEdge: AlarmQueryStats;
  readonly byBuilding: AlarmQueryStats;
  readonly byKindRange: AlarmQueryStats;
  /** Every page of the three. */
  readonly all: AlarmQueryStats;
  /** The same pages' planning + execution time in PostgreSQL (EXPLAIN ANALYZE): the wall times less the client, the round trips and the clip lookup. */
  readonly server: AlarmQueryStats;
}

const DAY = 86_400_000;

function stats(ms: number[]): AlarmQueryStats {
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    queries: ms.length,
    p50Ms: r(quantile(ms, 0.5)),
    p99Ms: r(quantile(ms, 0.99)),
    maxMs: r(Math.max(0, ...ms)),
  };
}

export async function measureAlarmQueries(db: Db, o: AlarmQueryOptions): Promise<AlarmQueryReport> {
  const rnd = mulberry32(20);
  const now = (o.now ?? new Date()).getTime();
  const d = new Date(now);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - (o.months - 1), 1);
  const samples = o.samples ?? 100;
  const pages = o.pages ?? 3;
  const limit = o.limit ?? 50;
  // A range of 1 to 90 days somewhere in the seeded months.
  const range = () => {
    const len = Math.ceil(rnd() * 90) * DAY;
    const to = start + len + Math.floor(rnd() * Math.max(1, now - start - len));
    return { from: to - len, to };
  };
  const server: number[] = [];
  const serverMs = async (f: AlarmFilter) => {
    const lines = await explainAlarmPage(db, f, { analyze: true });
    return lines.reduce(
      (sum, l) => sum + Number(/^(?:Planning|Execution) Time: ([\d.]+) ms/.exec(l)?.[1] ?? 0),
      0,
    );
  };
  const run = async (
    filter: () => Omit<AlarmFilter, 'limit' | 'cursor'>,
    measured = true,
  ): Promise<number[]> => {
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      const f = filter();
      let cursor: AlarmFilter['cursor'];
      for (let p = 0; p < pages; p++) {
        const t0 = performance.now();
        const asked = { ...f, limit, ...(cursor === undefined ? {} : { cursor }) };
        const page = await pageAlarms(db, asked);
        times.push(performance.now() - t0);
        if (measured) server.push(await serverMs(asked));
        cursor = page.next;
        if (cursor === undefined) break;
      }
    }
    return times;
  };
  // Warm the caches the way a running gateway's would be (one pass, not measured).
  await run(() => ({ ...range(), edge: seedEdgeId(Math.floor(rnd() * o.edges)) }), false);
  const byEdge = await run(() => ({ ...range(), edge: seedEdgeId(Math.floor(rnd() * o.edges)) }));
  const buildings = seedBuildingCount(o.edges);
  const byBuilding = await run(() => ({ ...range(), building: seedBuilding(Math.floor(rnd() * buildings)) }));
  const byKindRange = await run(() => ({
    ...range(),
    kind: SEED_KINDS[Math.floor(rnd() * SEED_KINDS.length)]!,
  }));
  return {
    byEdge: stats(byEdge),
    byBuilding: stats(byBuilding),
    byKindRange: stats(byKindRange),
    all: stats([...byEdge, ...byBuilding, ...byKindRange]),
    server: stats(server),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '10000000' },
      months: { type: 'string', default: '12' },
      edges: { type: 'string', default: '50000' },
      samples: { type: 'string', default: '100' },
      keep: { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench/results' },
    },
  });
  const { startPostgres } = await import('../infra/mod.ts');
  const { openDatabase } = await import('../gateway/db/database.ts');
  const rows = Number(values.rows);
  const months = Number(values.months);
  const edges = Number(values.edges);
  const pg = await startPostgres();
  try {
    await using database = await openDatabase({ url: await pg.createDatabase('alarm_queries') });
    const seed = await seedAlarmQueries(database.db, {
      rows,
      months,
      edges,
      onProgress: (p) =>
        process.stderr.write(
          `seed ${p.done}/${p.total} ${p.partition} ${p.skipped ? 'skipped' : `${p.rows} rows in ${(p.ms / 1000).toFixed(1)} s`}\n`,
        ),
    });
    const size = await database.db.execute(
      (await import('drizzle-orm')).sql`select pg_database_size(current_database())::bigint::text as bytes`,
    );
    const bytes = Number((((size as { rows?: unknown }).rows ?? size) as { bytes: string }[])[0]?.bytes ?? 0);
    const report = await measureAlarmQueries(database.db, { edges, months, samples: Number(values.samples) });
    const result = {
      rows,
      months,
      edges,
      seedSeconds: Math.round(seed.ms / 100) / 10,
      databaseBytes: bytes,
      ...report,
    };
    writeFileSync(`${values.out}/alarm-queries.json`, `${JSON.stringify(result, null, 2)}\n`);
    const line = (name: string, s: AlarmQueryStats) =>
      `| ${name} | ${s.queries} | ${s.p50Ms} | ${s.p99Ms} | ${s.maxMs} |`;
    writeFileSync(
      `${values.out}/alarm-queries.md`,
      [
        `# Alarm history at ${rows.toLocaleString('en')} rows, ${months} monthly partitions, ${edges.toLocaleString('en')} edges`,
        '',
        `Seeded in ${result.seedSeconds} s (database ${(bytes / 2 ** 30).toFixed(2)} GiB). Pages of 50, the first and up to 2 next-cursor pages, target p99 < 50 ms.`,
        '',
        '| query | pages | p50 ms | p99 ms | max ms |',
        '|---|---|---|---|---|',
        line('by edge + range', report.byEdge),
        line('by building + range', report.byBuilding),
        line('by kind + range', report.byKindRange),
        line('all', report.all),
        line('all, in PostgreSQL (plan + execute)', report.server),
        '',
      ].join('\n'),
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    if (!values.keep) await pg.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
