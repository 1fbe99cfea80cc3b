/**
 * What the fleet view (fleet-view.ts) keeps of every registered edge's row: its group, its
 * `building` label, its credentials' version after a rotation, whether a new secret waits for
 * it. Loaded whole (`FleetEdges.of`) or patched row by row in place (`patch`, an edge's change
 * notice), the patched ids journaled for those who follow it (`changesSince`: the screen model).
 */
import { sql } from 'drizzle-orm';
import type { Db } from './db/database.ts';
import { edges } from './db/schema.ts';

/** The columns the view selects of an edge's row. */
export const edgeColumns = {
  id: edges.id,
  groupId: edges.groupId,
  credentials: edges.credentialsVersion,
  pending: sql<boolean>`${edges.pendingSecret} is not null`,
  building: sql<string | null>`nullif(${edges.labels}->>'building', '')`,
};

/**
 * How far before the last read a refresh reads again: a row is stamped when it is written
 * (`now()` on insert, `clock_timestamp()` on update), but is seen when its transaction commits,
 * so a write stamped just before the last read and committed after it would be missed without
 * it. A transaction longer than this that inserts or deletes is caught by the count; one that
 * only updates, and whose notice was lost too, is not.
 */
export const CHANGED_LOOKBACK_S = 60;

/**
 * The rows stamped since `since` (the database's clock, as it printed it) less the lookback:
 * what a refresh takes in when the edges' fingerprint moved, instead of every row.
 */
export function changedEdgeRows(db: Db, since: string): Promise<EdgeRow[]> {
  return db
    .select(edgeColumns)
    .from(edges)
    .where(sql`${edges.updatedAt} > ${since}::timestamptz - make_interval(secs => ${CHANGED_LOOKBACK_S})`);
}

export interface EdgeRow {
  readonly id: string;
  readonly groupId: string | null;
  readonly credentials: number;
  readonly pending: boolean;
  readonly building: string | null;
}

/**
 * A point in a FleetEdges' changes (`changesSince`): which view, and how many of its patched
 * edges had been taken. Opaque to its holder.
 */
export interface EdgesMark {
  readonly of: object;
  readonly at: number;
}

/** What changed since a mark: `ids` undefined means every edge (another view, or too far back). */
export interface EdgeChanges {
  readonly mark: EdgesMark;
  readonly ids: readonly string[] | undefined;
}

/**
 * How many patched edges a view remembers for `changesSince`. A holder further behind walks every
 * edge (a rotation's grace period ending for 1,000 edges is 1,000 entries).
 */
export const JOURNAL_LIMIT = 10_000;

export class FleetEdges {
  /** Every registered edge's group, patched in place (`changesSince` says which changed). */
  readonly #groups = new Map<string, string | null>();
  /** Ids patched, in order; `#journalStart` is the sequence number of the first. */
  #journal: string[] = [];
  #journalStart = 0;
  /** Edges with a `building` label (not empty): the label. */
  readonly #labels = new Map<string, string>();
  /** Every edge's building, made from #groups and #labels when first asked, then patched with them. */
  #buildings: Map<string, string> | undefined;
  /** Edges whose credentials were rotated: their version, part of their configuration. */
  readonly #credentials = new Map<string, number>();
  /** Edges a rotation's new secret waits for: only their configuration reads look it up. */
  readonly #pending = new Set<string>();

  static of(rows: readonly EdgeRow[]): FleetEdges {
    const all = new FleetEdges();
    for (const row of rows) all.#set(row);
    return all;
  }

  /**
   * These edges' rows as read now: an id without a row is deregistered. Returns the ids whose
   * row differed from what was held (their configurations change).
   */
  patch(ids: readonly string[], rows: readonly EdgeRow[]): string[] {
    const found = new Map(rows.map((r) => [r.id, r]));
    const changed = ids.filter((id) => {
      const row = found.get(id);
      return row === undefined ? this.#groups.has(id) : !this.#holds(row);
    });
    // Nothing differs (a refresh's lookback reads rows again): nothing journaled, no sweep.
    for (const id of changed) {
      const row = found.get(id);
      if (row !== undefined) this.#set(row);
      else {
        this.#groups.delete(id);
        this.#labels.delete(id);
        this.#buildings?.delete(id);
        this.#credentials.delete(id);
        this.#pending.delete(id);
      }
      this.#journal.push(id);
    }
    if (this.#journal.length > JOURNAL_LIMIT) {
      const dropped = this.#journal.length - JOURNAL_LIMIT / 2;
      this.#journal = this.#journal.slice(dropped);
      this.#journalStart += dropped;
    }
    return changed;
  }

  /**
   * The edges patched since `mark` (each once), and the mark to ask from next time. Without a
   * mark, one of another view (a whole reload made this one) or one older than the journal: every
   * edge (`ids` undefined). At 50,000 edges a patch copied the groups map (~3-5 ms) and the screen
   * model's next sweep walked all of it and its own records (~22 ms).
   */
  changesSince(mark?: EdgesMark): EdgeChanges {
    const at = this.#journalStart + this.#journal.length;
    const next = mark !== undefined && mark.of === this && mark.at === at ? mark : { of: this, at };
    if (mark === undefined || mark.of !== this || mark.at < this.#journalStart)
      return { mark: next, ids: undefined };
    return { mark: next, ids: [...new Set(this.#journal.slice(mark.at - this.#journalStart))] };
  }

  /** Whether the view holds this row as it is. */
  #holds(row: EdgeRow): boolean {
    return (
      this.#groups.has(row.id) &&
      this.#groups.get(row.id) === row.groupId &&
      (this.#labels.get(row.id) ?? null) === row.building &&
      (this.#credentials.get(row.id) ?? 0) === Math.max(row.credentials, 0) &&
      this.#pending.has(row.id) === row.pending
    );
  }

  /** Registered edges. */
  get size(): number {
    return this.#groups.size;
  }

  get groups(): ReadonlyMap<string, string | null> {
    return this.#groups;
  }

  /** The building of every registered edge: its label, else its group, else `none`. */
  buildings(): ReadonlyMap<string, string> {
    if (this.#buildings === undefined) {
      const buildings = new Map<string, string>();
      for (const [id, group] of this.#groups) buildings.set(id, this.#labels.get(id) ?? group ?? 'none');
      this.#buildings = buildings;
    }
    return this.#buildings;
  }

  credentialsOf(id: string): number | undefined {
    return this.#credentials.get(id);
  }

  secretPending(id: string): boolean {
    return this.#pending.has(id);
  }

  #set(row: EdgeRow): void {
    this.#groups.set(row.id, row.groupId);
    if (row.building === null) this.#labels.delete(row.id);
    else this.#labels.set(row.id, row.building);
    this.#buildings?.set(row.id, row.building ?? row.groupId ?? 'none');
    if (row.credentials > 0) this.#credentials.set(row.id, row.credentials);
    else this.#credentials.delete(row.id);
    if (row.pending) this.#pending.add(row.id);
    else this.#pending.delete(row.id);
  }
}
