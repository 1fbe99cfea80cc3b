/**
 * Reading the alarm history (the partitioned `alarms` table) a page at a time, newest first by
 * (at, event id), with each row's clip: the `clips` row whose id is the alarm's clip id
 * (clipIdOf(edge, alarm, start) — an end row's start is its `since`, a start row's its `at`).
 */
import { and, desc, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import { clipIdOf } from '../../edge/protocol/mod.ts';
import type { Db } from '../db/database.ts';
import { alarms, clips, edges } from '../db/schema.ts';
import type { AlarmCursor } from './cursor.ts';

export type AlarmRow = typeof alarms.$inferSelect;
export type ClipRow = typeof clips.$inferSelect;

export interface AlarmFilter {
  /** ms since the epoch: from inclusive, to exclusive. */
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

export async function pageAlarms(db: Db, f: AlarmFilter): Promise<AlarmPage> {
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
  const after =
    f.cursor === undefined
      ? undefined
      : sql`(${alarms.at}, ${alarms.eventId}) < (${iso(f.cursor.at)}::timestamptz, ${f.cursor.eventId})`;
  const rows = await db
    .select()
    .from(alarms)
    .where(
      and(
        gte(alarms.at, sql`${iso(f.from)}::timestamptz`),
        lt(alarms.at, sql`${iso(f.to)}::timestamptz`),
        f.edge === undefined ? undefined : eq(alarms.edgeId, f.edge),
        f.kind === undefined ? undefined : eq(alarms.alarm, f.kind),
        f.phase === undefined ? undefined : eq(alarms.phase, f.phase),
        building,
        after,
      ),
    )
    .orderBy(desc(alarms.at), desc(alarms.eventId))
    .limit(f.limit + 1);
  const page = rows.slice(0, f.limit);
  const last = page.at(-1);
  const ids = [...new Set(page.map(clipIdOfRow).filter((id) => id !== undefined))];
  const found = ids.length === 0 ? [] : await db.select().from(clips).where(inArray(clips.id, ids));
  const byId = new Map(found.map((c) => [c.id, c]));
  return {
    rows: page.map((alarm) => {
      const id = clipIdOfRow(alarm);
      return { alarm, clip: id === undefined ? undefined : byId.get(id) };
    }),
    next:
      rows.length > f.limit && last !== undefined
        ? { at: last.at.getTime(), eventId: last.eventId }
        : undefined,
  };
}

/** One clip's row, or undefined. */
export async function clipById(db: Db, id: string): Promise<ClipRow | undefined> {
  const [row] = await db.select().from(clips).where(eq(clips.id, id));
  return row;
}
