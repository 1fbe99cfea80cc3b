/**
 * Fleet search over the registry and the edge actors' states: registry rows in id order (the
 * group and label equalities of the query narrowed in SQL), each page's actor states read in one
 * Redis round trip, the rest of the query evaluated here. A page holds up to `limit` matches from
 * at most `scanLimit` registry rows: `next` (the last id looked at) is set while rows are left, so
 * a sparse match over 50,000 edges answers in bounded time and the client pages on.
 */
import { and, asc, gt, type SQL, sql } from 'drizzle-orm';
import { readCheckpoints } from '../../actors/mod.ts';
import type { Bus } from '../../bus/mod.ts';
import type { EdgeState } from '../../edge/mod.ts';
import type { Db } from '../db/database.ts';
import { edges } from '../db/schema.ts';
import { type FleetEdge, matchesFleetQuery } from './evaluate.ts';
import type { FleetQuery } from './parse.ts';

export type EdgeRow = typeof edges.$inferSelect;

export interface FleetMatch {
  readonly row: EdgeRow;
  readonly edge: FleetEdge;
  /** The actor's checkpointed state (undefined before its first message). */
  readonly state: EdgeState | undefined;
}

export interface SearchOptions {
  readonly limit: number;
  /** The last id of the previous page. */
  readonly after?: string;
  /** Most registry rows looked at for one page (default 5,000). */
  readonly scanLimit?: number;
}

/** Registry rows read per round (one SQL query and one Redis pipeline each). */
const BATCH = 500;

export async function searchFleet(
  deps: { readonly db: Db; readonly bus: Bus },
  query: FleetQuery,
  options: SearchOptions,
): Promise<{ matches: FleetMatch[]; next: string | null; scanned: number }> {
  const { limit, scanLimit = 5000 } = options;
  const matches: FleetMatch[] = [];
  let after = options.after;
  let scanned = 0;
  for (;;) {
    const rows = await deps.db
      .select()
      .from(edges)
      .where(and(after === undefined ? undefined : gt(edges.id, after), ...narrowing(query)))
      .orderBy(asc(edges.id))
      .limit(Math.min(BATCH, scanLimit - scanned));
    const states = await readEdgeStates(
      deps.bus,
      rows.map((r) => r.id),
    );
    for (const row of rows) {
      scanned++;
      after = row.id;
      const state = states.get(row.id);
      const edge = toFleetEdge(row, state);
      if (matchesFleetQuery(query, edge)) matches.push({ row, edge, state });
      if (matches.length === limit) return { matches, next: row.id, scanned };
    }
    if (rows.length < BATCH && scanned < scanLimit) return { matches, next: null, scanned };
    if (scanned >= scanLimit) return { matches, next: after ?? null, scanned };
  }
}

/** Every edge that matches (rollout membership): the whole registry, page by page. */
export async function resolveFleet(
  deps: { readonly db: Db; readonly bus: Bus },
  query: FleetQuery,
): Promise<FleetMatch[]> {
  const all: FleetMatch[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await searchFleet(deps, query, { limit: 10_000, after, scanLimit: 10_000 });
    all.push(...page.matches);
    if (page.next === null) return all;
    after = page.next;
  }
}

/**
 * The query's group, id and label equalities as SQL, `*` wildcards as LIKE (the same full,
 * case-sensitive match as the evaluator's): rows they rule out are never read or looked at, so a
 * sparse `id=E-04*` answers from the index instead of scanning 5,000 rows a page. The rest of the
 * query is checked per edge.
 */
function narrowing(query: FleetQuery): SQL[] {
  const out: SQL[] = [];
  for (const { field, op, value } of query.terms) {
    if (op !== '=') continue;
    const like = value.includes('*') ? value.replace(/[\\%_]/g, '\\$&').replaceAll('*', '%') : undefined;
    const match = (column: SQL) =>
      like === undefined ? sql`${column} = ${value}` : sql`${column} like ${like} escape '\\'`;
    if (field.kind === 'group') out.push(match(sql`${edges.groupId}`));
    else if (field.kind === 'id') out.push(match(sql`${edges.id}`));
    else if (field.kind === 'label') out.push(match(sql`${edges.labels} ->> ${field.key}`));
  }
  return out;
}

/** The checkpointed states of edge actors `ids`, one Redis round trip. */
export async function readEdgeStates(
  bus: Bus,
  ids: readonly string[],
): Promise<Map<string, EdgeState | undefined>> {
  const out = new Map<string, EdgeState | undefined>();
  if (ids.length === 0) return out;
  const replies = await readCheckpoints(
    bus,
    ids.map((id) => `edge/${id}`),
  );
  ids.forEach((id, i) => {
    const raw = replies[i] ?? null;
    out.set(id, raw === null ? undefined : (JSON.parse(raw) as { s: EdgeState }).s);
  });
  return out;
}

/** An edge as the filter sees it, from its registry row and its actor's state. */
export function toFleetEdge(row: Pick<EdgeRow, 'id' | 'groupId' | 'labels'>, state: EdgeState | undefined) {
  const birth = state?.shadow.birth;
  const hardware = row.labels.hardware ?? (typeof birth?.hardware === 'string' ? birth.hardware : null);
  return {
    id: row.id,
    groupId: row.groupId,
    labels: row.labels,
    online: state?.online ?? false,
    hardware,
    installed: installedVersions(state),
    shadow: state?.shadow ?? {},
  } satisfies FleetEdge;
}

/** Installed versions by package name, as the edge actor records them (EdgeState.updates). */
export function installedVersions(state: EdgeState | undefined): Record<string, string> {
  const updates = (state as { updates?: { installed?: Record<string, unknown> } } | undefined)?.updates;
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(updates?.installed ?? {})) {
    const version = typeof v === 'string' ? v : (v as { version?: unknown } | null)?.version;
    if (typeof version === 'string') out[name] = version;
  }
  return out;
}
