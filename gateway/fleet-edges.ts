/**
 * What the fleet view (fleet-view.ts) keeps of every registered edge's row: its group, its
 * `building` label, its credentials' version after a rotation, whether a new secret waits for
 * it. Loaded whole (`FleetEdges.of`) or patched row by row (`patch`, an edge's change notice).
 */
import { sql } from 'drizzle-orm';
import { edges } from './db/schema.ts';

/** The columns the view selects of an edge's row. */
export const edgeColumns = {
  id: edges.id,
  groupId: edges.groupId,
  credentials: edges.credentialsVersion,
  pending: sql<boolean>`${edges.pendingSecret} is not null`,
  building: sql<string | null>`nullif(${edges.labels}->>'building', '')`,
};

export interface EdgeRow {
  readonly id: string;
  readonly groupId: string | null;
  readonly credentials: number;
  readonly pending: boolean;
  readonly building: string | null;
}

export class FleetEdges {
  /** Every registered edge's group: a new map whenever any edge changed (the screen model sweeps on it). */
  #groups = new Map<string, string | null>();
  /** Edges with a `building` label (not empty): the label. */
  readonly #labels = new Map<string, string>();
  /** Every edge's building, made from #groups and #labels when first asked after a change. */
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

  /** These edges' rows as read now: an id without a row is deregistered. */
  patch(ids: readonly string[], rows: readonly EdgeRow[]): void {
    const found = new Map(rows.map((r) => [r.id, r]));
    this.#groups = new Map(this.#groups);
    this.#buildings = undefined;
    for (const id of ids) {
      const row = found.get(id);
      if (row !== undefined) {
        this.#set(row);
        continue;
      }
      this.#groups.delete(id);
      this.#labels.delete(id);
      this.#credentials.delete(id);
      this.#pending.delete(id);
    }
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
    if (row.credentials > 0) this.#credentials.set(row.id, row.credentials);
    else this.#credentials.delete(row.id);
    if (row.pending) this.#pending.add(row.id);
    else this.#pending.delete(row.id);
  }
}
