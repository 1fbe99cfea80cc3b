/**
 * Reading the alarm history (the partitioned `alarms` table) a page at a time, newest first by
 * (recorded_at, event id) — the partition key first, so the time range and the cursor both bound
 * recorded_at and PostgreSQL reads only the months they cover — with each row's clip: the `clips` row whose id is the alarm's clip id
 * (clipIdOf(edge, alarm, start) — an end row's start is its `since`, a start row's its `at`).
 */
import {
  and,
  desc,
  eq,
  getTableColumns,
  gte,
  inArray,
  lt,
  lte,
  type SQL,
  type SQLWrapper,
  sql,
} from 'drizzle-orm';
import { clipIdOf } from '../../edge/protocol/mod.ts';
import type { Db } from '../db/database.ts';
import { alarms, clips, edges } from '../db/schema.ts';
import { type AlarmCursor, microsIso } from './cursor.ts';

export type AlarmRow = typeof alarms.$inferSelect;
export type ClipRow = typeof clips.$inferSelect;

export interface AlarmFilter {
  /** When the hub recorded the alarm (recorded_at), ms since the epoch: from inclusive, to exclusive. */
  readonly from: number;
  readonly to: number;
  readonly edge?: string;
  /** The edges whose `building` label (else their group) is this. */
  readonly building?: string;
  /** The alarm kind (its name, e.g. `trapped`). */
  readonly kind?: string;
  readonly phase?: 'start' | 'end';
  readonly cursor?: AlarmCursor;
  readonly limit: number;
}

export interface AlarmPage {
  readonly rows: readonly { readonly alarm: AlarmRow; readonly clip: ClipRow | undefined }[];
  /** Where the next page starts; none when this one is the last. */
  readonly next: AlarmCursor | undefined;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The clip id an alarm row's clip has, or undefined when the row does not know the alarm's start. */
function clipIdOfRow(row: Pick<AlarmRow, 'edgeId' | 'alarm' | 'phase' | 'at' | 'since'>) {
  const start = row.phase === 'start' ? row.at : row.since;
  return start === null ? undefined : clipIdOf(row.edgeId, row.alarm, start.getTime());
}

type PageRow = AlarmRow & { readonly recordedUs: string };

/**
 * The query of one page (limit + 1 rows: the extra one says whether there is a next page). A
 * building's page reads each of its edges' newest rows (limit + 1 at most, by the key) and merges
 * them: bounded work even when one of its edges raised a hundred thousand alarms.
 */
function pageQuery(db: Db, f: AlarmFilter): SQLWrapper & { rows(): Promise<PageRow[]> } {
  // The row comparison is the keyset; the plain bound beside it is what prunes the months after.
  const last = f.cursor === undefined ? undefined : sql`${microsIso(f.cursor.recordedUs)}::timestamptz`;
  const after =
    f.cursor === undefined || last === undefined
      ? undefined
      : and(
          lte(alarms.recordedAt, last),
          sql`(${alarms.recordedAt}, ${alarms.eventId}) < (${last}, ${f.cursor.eventId})`,
        );
  const page = (edgeOf: SQL | undefined) =>
    db
      .select({
        ...getTableColumns(alarms),
        recordedUs: sql<string>`(extract(epoch from ${alarms.recordedAt}) * 1000000)::bigint::text`.as(
          'recorded_us',
        ),
      })
      .from(alarms)
      .where(
        and(
          gte(alarms.recordedAt, sql`${iso(f.from)}::timestamptz`),
          lt(alarms.recordedAt, sql`${iso(f.to)}::timestamptz`),
          f.edge === undefined ? undefined : eq(alarms.edgeId, f.edge),
          f.kind === undefined ? undefined : eq(alarms.alarm, f.kind),
          f.phase === undefined ? undefined : eq(alarms.phase, f.phase),
          edgeOf,
          after,
        ),
      )
      .orderBy(desc(alarms.recordedAt), desc(alarms.eventId))
      .limit(f.limit + 1);
  if (f.building === undefined) {
    const q = page(undefined);
    return { getSQL: () => q.getSQL(), rows: () => q };
  }
  const q = sql`select a.* from (select ${edges.id} as id from ${edges}
      where coalesce(${edges.labels}->>'building', ${edges.groupId}) = ${f.building}) e
    cross join lateral (${page(sql`${alarms.edgeId} = e.id`)}) a
    order by a.recorded_at desc, a.event_id desc limit ${f.limit + 1}`;
  return {
    getSQL: () => q,
    rows: async () => {
      const result = await db.execute(q);
      return (((result as { rows?: unknown }).rows ?? result) as Record<string, unknown>[]).map(fromRaw);
    },
  };
}

const date = (v: unknown) => (v instanceof Date ? v : new Date(String(v)));

/** A row of the raw building query as drizzle's select gives the others. */
function fromRaw(r: Record<string, unknown>): PageRow {
  return {
    eventId: String(r.event_id),
    recordedAt: date(r.recorded_at),
    edgeId: String(r.edge_id),
    alarm: String(r.alarm),
    phase: r.phase as AlarmRow['phase'],
    at: date(r.at),
    since: r.since === null || r.since === undefined ? null : date(r.since),
    data: (typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as AlarmRow['data'],
    recordedUs: String(r.recorded_us),
  };
}

export async function pageAlarms(db: Db, f: AlarmFilter): Promise<AlarmPage> {
  const rows = await pageQuery(db, f).rows();
  const page = rows.slice(0, f.limit).map(({ recordedUs, ...alarm }) => ({ alarm, recordedUs }));
  const end = page.at(-1);
  const ids = [...new Set(page.map((r) => clipIdOfRow(r.alarm)).filter((id) => id !== undefined))];
  const found = ids.length === 0 ? [] : await db.select().from(clips).where(inArray(clips.id, ids));
  const byId = new Map(found.map((c) => [c.id, c]));
  return {
    rows: page.map(({ alarm }) => {
      const id = clipIdOfRow(alarm);
      return { alarm, clip: id === undefined ? undefined : byId.get(id) };
    }),
    next:
      rows.length > f.limit && end !== undefined
        ? { recordedUs: Number(end.recordedUs), eventId: end.alarm.eventId }
        : undefined,
  };
}

/**
 * PostgreSQL's plan for a page (EXPLAIN, one line each): which partitions it reads; with
 * `analyze`, run, with its planning and execution times.
 */
export async function explainAlarmPage(
  db: Db,
  f: AlarmFilter,
  o: { analyze?: boolean } = {},
): Promise<string[]> {
  const result = await db.execute(sql`explain ${sql.raw(o.analyze ? '(analyze) ' : '')}${pageQuery(db, f)}`);
  const rows = ((result as { rows?: unknown }).rows ?? result) as Record<string, string>[];
  return rows.map((r) => Object.values(r)[0] ?? '');
}

/** One clip's row, or undefined. */
export async function clipById(db: Db, id: string): Promise<ClipRow | undefined> {
  const [row] = await db.select().from(clips).where(eq(clips.id, id));
  return row;
}
