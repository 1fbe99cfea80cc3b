/**
 * A simulated fleet's days all start in the same second; its edges' periodic status snapshots must
 * still be spread over the minute, as a real fleet's boot times spread them, or every edge would
 * send its full status in the same second of every minute.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { advance, createSimEdge, type Outgoing } from './sim-edge.ts';

describe('simulated edges', () => {
  it("spread their periodic snapshots over the minute, each edge's a minute apart", () => {
    const edges = Array.from({ length: 120 }, (_, i) =>
      createSimEdge(i, { id: `E-${i}`, workload: 'compact', boot: 'b', client: undefined }),
    );
    const snapshots = new Map<number, number[]>(); // second -> edge indices
    const start = 1_700_000_000_000;
    for (let s = 0; s < 180; s++)
      for (const edge of edges)
        advance(edge, start + s * 1000, (e, out: Outgoing) => {
          if ('compact' in out && out.compact.kind === 'status' && out.compact.snapshot)
            snapshots.set(s, [...(snapshots.get(s) ?? []), e.index]);
        });
    // Day start: every edge sends its full status once.
    assert.equal(snapshots.get(0)?.length, 120);
    // Then each edge once a minute, at its own second: never more than a few in one second.
    const later = [...snapshots].filter(([s]) => s > 0);
    const perSecond = later.map(([, indices]) => indices.length);
    assert.ok(Math.max(...perSecond) <= 4, `at most 4 snapshots in a second, got ${Math.max(...perSecond)}`);
    assert.ok(later.length >= 50, `snapshots in ${later.length} distinct seconds`);
    for (const edge of edges) {
      const at = later.filter(([, indices]) => indices.includes(edge.index)).map(([s]) => s);
      assert.ok(at.length >= 2 && at.length <= 3, `edge ${edge.index}: ${at}`);
      for (let k = 1; k < at.length; k++) assert.equal(at[k]! - at[k - 1]!, 60, `edge ${edge.index}: ${at}`);
    }
  });
});
