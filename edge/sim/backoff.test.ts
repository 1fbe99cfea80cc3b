/**
 * The scale benchmark's pure pieces: jittered reconnect delays and broker shard assignment.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jitteredBackoffMs } from './backoff.ts';
import { brokerShardOf, shardEdgeIndices } from './broker-shard.ts';
import { simulatedEdgeId } from './simulator.ts';

describe('jitteredBackoffMs', () => {
  const backoff = { baseMs: 500, capMs: 8000 };

  it('draws within a window that doubles per attempt up to the cap', () => {
    const almostOne = () => 0.999_999;
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 60, 5000].map((a) => jitteredBackoffMs(a, backoff, almostOne)),
      [499, 999, 1999, 3999, 7999, 7999, 7999, 7999],
    );
    assert.equal(
      jitteredBackoffMs(3, backoff, () => 0),
      0,
    );
    assert.equal(
      jitteredBackoffMs(2, backoff, () => 0.5),
      1000,
    );
  });

  it('spreads a fleet over the window rather than at one instant', () => {
    const delays = Array.from({ length: 2000 }, () => jitteredBackoffMs(4, backoff));
    const seconds = new Set(delays.map((d) => Math.floor(d / 1000)));
    assert.equal(seconds.size, 8, `delays fall in every second of the 8 s window: ${[...seconds]}`);
    assert.ok(delays.every((d) => d >= 0 && d < 8000));
  });

  it('refuses a window that cannot be', () => {
    assert.throws(() => jitteredBackoffMs(0, { baseMs: 0, capMs: 10 }), RangeError);
    assert.throws(() => jitteredBackoffMs(0, { baseMs: 100, capMs: 10 }), RangeError);
  });
});

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
