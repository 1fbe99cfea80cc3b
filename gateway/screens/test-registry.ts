/**
 * For the screen model's tests: the fleet view's registered edges without a database — a real
 * FleetEdges, patched one row at a time (a notice) or made anew (a whole reload), and a count of
 * the walks over its map (what a sweep costs at 50,000 edges).
 */
import { type EdgesMark, FleetEdges } from '../fleet-edges.ts';
import type { RegisteredEdges } from './read-model.ts';

const rowOf = (id: string, groupId: string | null) => ({
  id,
  groupId,
  credentials: 0,
  pending: false,
  building: null,
});

const edgesOf = (groups: Iterable<readonly [string, string | null]>) =>
  FleetEdges.of([...groups].map(([id, group]) => rowOf(id, group)));

export class TestRegistry implements RegisteredEdges {
  #edges: FleetEdges;
  /** Walks over the groups map (its keys, entries or itself iterated). */
  walks = 0;

  constructor(groups: Iterable<readonly [string, string | null]> = []) {
    this.#edges = edgesOf(groups);
  }

  /** A whole reload: a new view of these edges. */
  reload(groups: Iterable<readonly [string, string | null]>): void {
    this.#edges = edgesOf(groups);
  }

  /** A notice's patch: edge `id` in `group`, or deregistered (undefined). */
  patch(id: string, group: string | null | undefined): void {
    this.#edges.patch([id], group === undefined ? [] : [rowOf(id, group)]);
  }

  edgeGroups(): ReadonlyMap<string, string | null> {
    const groups = this.#edges.groups;
    const walked = <T>(walk: T): T => {
      this.walks++;
      return walk;
    };
    return {
      get: (id) => groups.get(id),
      has: (id) => groups.has(id),
      get size() {
        return groups.size;
      },
      keys: () => walked(groups.keys()),
      values: () => walked(groups.values()),
      entries: () => walked(groups.entries()),
      forEach: (f) => walked(groups.forEach(f)),
      [Symbol.iterator]: () => walked(groups[Symbol.iterator]()),
    };
  }

  edgeChanges(mark?: EdgesMark) {
    return this.#edges.changesSince(mark);
  }
}
