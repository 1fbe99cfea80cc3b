/**
 * Broker shard assignment of the scale benchmark's simulated edges: every edge on exactly one
 * shard, about evenly.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { brokerShardOf, shardEdgeIndices } from './broker-shard.ts';
import { simulatedEdgeId } from './simulator.ts';

describe('brokerShardOf', () => {
  it('puts every edge on exactly one shard, about evenly', () => {
    const edges = 12_000;
    const shards = 6;
    const parts = Array.from({ length: shards }, (_, shard) =>
      shardEdgeIndices(edges, { shard, shards, idOf: simulatedEdgeId }),
    );
    assert.equal(
      parts.reduce((n, p) => n + p.length, 0),
      edges,
    );
    assert.equal(new Set(parts.flat()).size, edges);
    for (const p of parts)
      assert.ok(Math.abs(p.length - edges / shards) < 200, `shard sizes ${parts.map((q) => q.length)}`);
    for (const i of parts[3]!) assert.equal(brokerShardOf(simulatedEdgeId(i), shards), 3);
  });

  it('refuses a shard count that is not a positive integer', () => {
    assert.throws(() => brokerShardOf('E-000001', 0), RangeError);
    assert.throws(() => brokerShardOf('E-000001', 1.5), RangeError);
  });
});
