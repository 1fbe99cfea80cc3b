/**
 * The fleet view's edges on their own: what changed since a mark (the screen model's sweep reads
 * only those), every edge for a mark of another view or one the journal no longer reaches, and
 * the buildings patched with the groups.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type EdgeRow, FleetEdges, JOURNAL_LIMIT } from './fleet-edges.ts';

const row = (id: string, groupId: string | null, building: string | null = null): EdgeRow => ({
  id,
  groupId,
  credentials: 0,
  pending: false,
  building,
});

describe('the fleet view’s edges', () => {
  it('say which edges changed since a mark, each once', () => {
    const edges = FleetEdges.of([row('E-1', 'G1'), row('E-2', 'G1')]);
    const start = edges.changesSince();
    assert.equal(start.ids, undefined, 'no mark: every edge');
    assert.deepEqual(edges.changesSince(start.mark).ids, []);
    assert.deepEqual(edges.patch(['E-1'], [row('E-1', 'G1')]), [], 'as it was: no change');
    edges.patch(['E-2'], [row('E-2', 'G2')]);
    edges.patch(['E-1', 'E-3'], [row('E-3', null)]);
    edges.patch(['E-2'], [row('E-2', 'G3', 'B1')]);
    const later = edges.changesSince(start.mark);
    assert.deepEqual(later.ids, ['E-2', 'E-1', 'E-3']);
    assert.deepEqual(
      [...edges.groups],
      [
        ['E-2', 'G3'],
        ['E-3', null],
      ],
    );
    assert.deepEqual(edges.changesSince(later.mark).ids, []);
    assert.equal(
      FleetEdges.of([]).changesSince(later.mark).ids,
      undefined,
      "another view's mark: every edge",
    );
  });

  it('answers every edge to a mark older than its journal', () => {
    const edges = FleetEdges.of([]);
    const { mark } = edges.changesSince();
    for (let i = 0; i <= JOURNAL_LIMIT; i++) edges.patch([`E-${i}`], [row(`E-${i}`, 'G1')]);
    assert.equal(edges.changesSince(mark).ids, undefined);
    const recent = edges.changesSince().mark;
    edges.patch(['E-0'], [row('E-0', 'G2')]);
    assert.deepEqual(edges.changesSince(recent).ids, ['E-0']);
  });

  it('patch the buildings they made, in place', () => {
    const edges = FleetEdges.of([row('E-1', 'G1'), row('E-2', null, 'B2')]);
    const buildings = edges.buildings();
    assert.deepEqual(
      [...buildings],
      [
        ['E-1', 'G1'],
        ['E-2', 'B2'],
      ],
    );
    edges.patch(['E-1', 'E-2', 'E-3'], [row('E-1', 'G1', 'B1'), row('E-3', null)]);
    assert.equal(edges.buildings(), buildings);
    assert.deepEqual(
      [...buildings],
      [
        ['E-1', 'B1'],
        ['E-3', 'none'],
      ],
    );
  });
});
