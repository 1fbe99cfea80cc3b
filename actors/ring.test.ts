import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HashRing } from './ring.ts';

const SHARDS = 1024;
const nodes = (n: number) => Array.from({ length: n }, (_, i) => `node-${i + 1}`);

describe('HashRing (rendezvous placement)', () => {
  it('gives every shard exactly one owner, the same one whatever the member order', () => {
    const a = new HashRing(['x', 'y', 'z']).assignment(SHARDS);
    const b = new HashRing(['z', 'x', 'y', 'x']).assignment(SHARDS);
    assert.deepEqual(a, b);
    assert.ok(a.every((owner) => owner !== undefined));
    assert.equal(new HashRing([]).ownerOf(3), undefined);
  });

  it('balances shards like independent fair draws (within 3.5σ of the mean) for 2..10 nodes', () => {
    for (let n = 2; n <= 10; n++) {
      const ring = new HashRing(nodes(n));
      const counts = nodes(n).map((node) => ring.shardsOf(node, SHARDS).length);
      const mean = SHARDS / n;
      const sigma = Math.sqrt(SHARDS * (1 / n) * (1 - 1 / n));
      for (const count of counts) {
        assert.ok(
          Math.abs(count - mean) < 3.5 * sigma,
          `${n} nodes: ${counts.join('/')} (σ ${sigma.toFixed(1)})`,
        );
      }
    }
  });

  it('moves only shards to a joining node, about 1/(N+1) of them', () => {
    for (let n = 1; n <= 8; n++) {
      const before = new HashRing(nodes(n)).assignment(SHARDS);
      const after = new HashRing(nodes(n + 1)).assignment(SHARDS);
      const moved = after.filter((owner, s) => owner !== before[s]);
      assert.ok(
        moved.every((owner) => owner === `node-${n + 1}`),
        'only to the new node',
      );
      const fraction = moved.length / SHARDS;
      assert.ok(Math.abs(fraction - 1 / (n + 1)) < 0.05, `${n}→${n + 1}: moved ${fraction.toFixed(3)}`);
    }
  });

  it('moves only the leaving node’s shards when a node leaves', () => {
    const before = new HashRing(nodes(5)).assignment(SHARDS);
    const after = new HashRing(nodes(5).filter((node) => node !== 'node-3')).assignment(SHARDS);
    for (let s = 0; s < SHARDS; s++) {
      if (before[s] !== 'node-3') assert.equal(after[s], before[s], `shard ${s} stayed`);
      else assert.notEqual(after[s], 'node-3');
    }
  });
});
