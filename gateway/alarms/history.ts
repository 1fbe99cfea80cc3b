/**
 * Reading the alarm history (the partitioned `alarms` table) a page at a time, newest first by
 * (recorded_at, event id) — the partition key first, so the time range and the cursor both bound
 * recorded_at and PostgreSQL reads only the months they cover — with each row's clip: the `clips` row whose id is the alarm's clip id
 * (clipIdOf(edge, alarm, start) — an end row's start is its `since`, a start row's its `at`).
 */
import { and, desc, eq, getTableColumns, gte, inArray, lt, lte, sql } from 'drizzle-orm';
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

/** The query of one page (limit + 1 rows: the extra one says whether there is a next page). */
function pageQuery(db: Db, f: AlarmFilter) {
  const building =
    f.building === undefined
      ? undefined
      : inArray(
          alarms.edgeId,
          db
            .select({ id: edges.id })
            .from(edges)
            .where(sql`coalesce(${edges.labels}->>'building', ${edges.groupId}) = ${f.building}`),
        );
  // The row comparison is the keyset; the plain bound beside it is what prunes the months after.
  const last = f.cursor === undefined ? undefined : sql`${microsIso(f.cursor.recordedUs)}::timestamptz`;
  const after =
    f.cursor === undefined || last === undefined
      ? undefined
      : and(
          lte(alarms.recordedAt, last),
          sql`(${alarms.recordedAt}, ${alarms.eventId}) < (${last}, ${f.cursor.eventId})`,
        );
  return db
    .select({
      ...getTableColumns(alarms),
      recordedUs: sql<string>`(extract(epoch from ${alarms.recordedAt}) * 1000000)::bigint::text`,
    })
    .from(alarms)
    .where(
      and(
        gte(alarms.recordedAt, sql`${iso(f.from)}::timestamptz`),
        lt(alarms.recordedAt, sql`${iso(f.to)}::timestamptz`),
        f.edge === undefined ? undefined : eq(alarms.edgeId, f.edge),
        f.kind === undefined ? undefined : eq(alarms.alarm, f.kind),
        f.phase === undefined ? undefined : eq(alarms.phase, f.phase),
        building,
        after,
      ),
    )
    .orderBy(desc(alarms.recordedAt), desc(alarms.eventId))
    .limit(f.limit + 1);
}

export async function pageAlarms(db: Db, f: AlarmFilter): Promise<AlarmPage> {
  const rows = await pageQuery(db, f);
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

/** PostgreSQL's plan for a page (EXPLAIN, one line each): which partitions it reads. */
export async function explainAlarmPage(db: Db, f: AlarmFilter): Promise<string[]> {
  const result = await db.execute(sql`explain ${pageQuery(db, f)}`);
  const rows = ((result as { rows?: unknown }).rows ?? result) as Record<string, string>[];
  return rows.map((r) => Object.values(r)[0] ?? '');
}

/** One clip's row, or undefined. */
export async function clipById(db: Db, id: string): Promise<ClipRow | undefined> {
  const [row] = await db.select().from(clips).where(eq(clips.id, id));
  return row;
}
