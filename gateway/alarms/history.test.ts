/**
 * The alarm history's keyset pages straight over the database (PGlite, no gateway): rows whose
 * times share a millisecond but not a microsecond come each exactly once across pages (the
 * cursor carries the column's microseconds, not a rounded millisecond); a small seed, seeded once,
 * whose pages by edge, building, kind and range read only the months in range (EXPLAIN); the
 * retention job dropping whole months past the kept ones; migration 0012 over rows made before it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { waitFor } from '../../infra/wait-for.ts';
import { ensureMonthlyPartitions, listMonthlyPartitions } from '../db/alarm-partitions.ts';
import { type Database, openDatabase } from '../db/database.ts';
import { clips } from '../db/schema.ts';
import { type AlarmCursor, decodeCursor, encodeCursor } from './cursor.ts';
import { explainAlarmPage, pageAlarms } from './history.ts';
import { startPartitionRetention } from './retention.ts';
import { seedAlarmHistory, seedBuilding, seedEdgeId } from './seed.ts';

describe('alarm history pages', () => {
  let database: Database;
  before(async () => {
    database = await openDatabase();
  });
  after(() => database.close());

  it('sees each row once when times share a millisecond (µs in the cursor)', async () => {
    const { db } = database;
    await ensureMonthlyPartitions(db, 'alarms', new Date('2026-10-01T00:00:00Z'), 0);
    // Six rows within one millisecond, the event ids in the opposite order of their times.
    const micros = ['000001', '000250', '000400', '000700', '000800', '000999'];
    for (const [i, us] of micros.entries()) {
      const t = `2026-10-05T12:00:00.${us}Z`;
      await db.execute(
        sql`insert into alarms (event_id, recorded_at, edge_id, alarm, phase, at)
            values (${`g0-${9 - i}`}, ${t}::timestamptz, 'E1', 'trapped', 'start', ${t}::timestamptz)`,
      );
    }
    const from = Date.UTC(2026, 9, 1);
    const to = Date.UTC(2026, 10, 1);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 20; pages++) {
      const decoded = cursor === undefined ? undefined : decodeCursor(cursor);
      const page = await pageAlarms(db, {
        from,
        to,
        limit: 2,
        ...(decoded === undefined ? {} : { cursor: decoded }),
      });
      seen.push(...page.rows.map((r) => r.alarm.eventId));
      if (page.next === undefined) break;
      cursor = encodeCursor(page.next);
    }
    assert.deepEqual(seen, ['g0-4', 'g0-5', 'g0-6', 'g0-7', 'g0-8', 'g0-9'], 'newest first, each once');
  });

  it('is seeded once, and a page reads only the months its range and cursor cover', async () => {
    const { db } = database;
    const now = new Date(Date.UTC(2026, 10, 15));
    const first = await seedAlarmHistory(db, { rows: 2400, months: 12, edges: 100, now });
    assert.equal(first.seeded.length, 12);
    assert.equal(first.rows, 2400);
    const again = await seedAlarmHistory(db, { rows: 2400, months: 12, edges: 100, now });
    assert.deepEqual([again.seeded.length, again.skipped.length, again.rows], [0, 12, 0], 'nothing twice');
    const months = async (f: Parameters<typeof explainAlarmPage>[1]) =>
      [
        ...new Set(
          (await explainAlarmPage(db, f)).flatMap((l) => l.match(/alarms_(y\d{4}m\d{2}|default)/g) ?? []),
        ),
      ]
        .map((m) => m.slice('alarms_'.length))
        .sort();
    const from = Date.UTC(2026, 7, 10);
    const to = Date.UTC(2026, 9, 5);
    const kinds: Parameters<typeof explainAlarmPage>[1][] = [
      { from, to, limit: 50 },
      { from, to, limit: 50, edge: seedEdgeId(3) },
      { from, to, limit: 50, building: seedBuilding(1) },
      { from, to, limit: 50, kind: 'trapped' },
    ];
    for (const f of kinds)
      assert.deepEqual(await months(f), ['y2026m08', 'y2026m09', 'y2026m10'], JSON.stringify(f));
    // A cursor in September: October is not read any more.
    const cursor = { recordedUs: Date.UTC(2026, 8, 20) * 1000, eventId: 'seed-9-1' };
    assert.deepEqual(await months({ from, to, limit: 50, cursor }), ['y2026m08', 'y2026m09']);
    // Every page of the building's history, each row once, newest first.
    const seen: { id: string; at: number }[] = [];
    let next: AlarmCursor | undefined;
    do {
      const page = await pageAlarms(db, {
        from,
        to,
        limit: 7,
        building: seedBuilding(1),
        ...(next ? { cursor: next } : {}),
      });
      seen.push(...page.rows.map((r) => ({ id: r.alarm.eventId, at: r.alarm.recordedAt.getTime() })));
      next = page.next;
    } while (next !== undefined);
    const counted = await db.execute(
      sql`select count(*)::int as n from alarms a join edges e on e.id = a.edge_id
          where e.labels->>'building' = ${seedBuilding(1)}
          and a.recorded_at >= ${new Date(from).toISOString()}::timestamptz
          and a.recorded_at < ${new Date(to).toISOString()}::timestamptz`,
    );
    const n = (((counted as { rows?: unknown }).rows ?? counted) as { n: number }[])[0]?.n ?? 0;
    assert.ok(n > 0);
    assert.equal(seen.length, n);
    assert.equal(new Set(seen.map((r) => r.id)).size, n);
    assert.deepEqual(
      seen.map((r) => r.at),
      [...seen.map((r) => r.at)].sort((a, b) => b - a),
    );
  });

  it('drops whole months past retention, keeping a clips month while a clip is stored', async () => {
    const { db } = database;
    const now = Date.UTC(2026, 10, 15);
    // Clips in two old months: one still stored (its objects not swept), one deleted.
    for (const [month, status] of [
      [1, 'stored'],
      [2, 'deleted'],
    ] as const) {
      await ensureMonthlyPartitions(db, 'clips', new Date(Date.UTC(2026, month, 1)), 0);
      await db.insert(clips).values({
        id: `c${month}`,
        edgeId: 'E1',
        alarm: 'trapped',
        alarmSince: new Date(Date.UTC(2026, month, 3)),
        windowStart: new Date(Date.UTC(2026, month, 3)),
        windowEnd: new Date(Date.UTC(2026, month, 3, 0, 1)),
        status,
        requestedAt: new Date(Date.UTC(2026, month, 3)),
        retentionDays: 30,
      });
    }
    const alarmsBefore = await listMonthlyPartitions(db, 'alarms');
    assert.ok(
      alarmsBefore.some((p) => p.name === 'alarms_y2025m12'),
      'the seed made December 2025',
    );
    // The job, under a stand-in lease: keep 6 months of alarms (June–November), 7 of clips.
    const job = startPartitionRetention({
      db,
      bus: { holdLease: async () => true },
      holder: 'test',
      keepMonths: { alarms: 6, clips: 7 },
      intervalMs: 20,
      now: () => now,
    });
    try {
      await waitFor(async () => (await listMonthlyPartitions(db, 'alarms'))[0]?.name === 'alarms_y2026m06', {
        timeoutMs: 15_000,
        message: 'months before June dropped',
      });
    } finally {
      await job.stop();
    }
    const names = (await listMonthlyPartitions(db, 'alarms')).map((p) => p.name);
    assert.deepEqual(names.slice(0, 6), [
      'alarms_y2026m06',
      'alarms_y2026m07',
      'alarms_y2026m08',
      'alarms_y2026m09',
      'alarms_y2026m10',
      'alarms_y2026m11',
    ]);
    const clipMonths = (await listMonthlyPartitions(db, 'clips')).map((p) => p.name);
    assert.ok(clipMonths.includes('clips_y2026m02'), 'February kept: a clip is still stored');
    assert.ok(!clipMonths.includes('clips_y2026m03'), 'March dropped: its clip was deleted');
    // The months kept answer as before.
    const page = await pageAlarms(db, { from: Date.UTC(2026, 5, 1), to: Date.UTC(2026, 6, 1), limit: 1 });
    assert.equal(page.rows.length, 1);
  });

  it('migration 0012 keeps the rows of a database made before it', async () => {
    // The migrations before 0012 in a schema of their own (same server, no second start), rows, then 0012.
    const dir = new URL('../db/migrations/', import.meta.url);
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.sql'))
      .sort();
    const inSchema = (text: string) =>
      database.execInTransaction(
        `create schema if not exists pre0012; set local search_path to pre0012; ${text}`,
      );
    for (const f of files.filter((f) => f < '0012')) await inSchema(readFileSync(new URL(f, dir), 'utf8'));
    await inSchema(`
      create table alarms_y2026m10 partition of alarms for values from ('2026-10-01') to ('2026-11-01');
      insert into alarms (event_id, recorded_at, edge_id, alarm, phase, at)
        values ('g0-1-0', '2026-10-05T12:00:00.000123Z', 'E1', 'trapped', 'start', '2026-10-05T12:00:00Z');
      insert into clips (id, edge_id, alarm, alarm_since, window_start, window_end, status, requested_at, retention_days)
        values ('c1', 'E1', 'trapped', '2026-10-05', '2026-10-05', '2026-10-05', 'stored', '2026-10-05T12:00:10Z', 30),
               ('c2', 'E2', 'ebike', '2026-09-05', '2026-09-05', '2026-09-05', 'queued', '2026-09-05T12:00:10Z', 30);`);
    await inSchema(readFileSync(new URL(files.find((f) => f.startsWith('0012'))!, dir), 'utf8'));
    const rows = async <T>(q: string) => {
      const r = await database.db.execute(sql.raw(q));
      return ((r as { rows?: unknown }).rows ?? r) as T[];
    };
    assert.deepEqual(
      await rows(`select conrelid::regclass::text as t, pg_get_constraintdef(oid) as def from pg_constraint
         where contype = 'p' and conrelid in ('pre0012.alarms'::regclass, 'pre0012.clips'::regclass) order by 1`),
      [
        { t: 'pre0012.alarms', def: 'PRIMARY KEY (edge_id, recorded_at, event_id)' },
        { t: 'pre0012.clips', def: 'PRIMARY KEY (edge_id, requested_at, id)' },
      ],
    );
    assert.deepEqual(await rows('select id, tableoid::regclass::text as p from pre0012.clips order by id'), [
      { id: 'c1', p: 'pre0012.clips_y2026m10' },
      { id: 'c2', p: 'pre0012.clips_y2026m09' },
    ]);
    assert.deepEqual(await rows("select count(*)::int as n from pre0012.alarms where edge_id = 'E1'"), [
      { n: 1 },
    ]);
  });
});
