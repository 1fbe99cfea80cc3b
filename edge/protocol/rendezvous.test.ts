import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fnv1a32 as busFnv, mix32 as busMix } from '../../bus/hash.ts';
import { fnv1a32, mix32, pickByRendezvous, rankByRendezvous } from './rendezvous.ts';

const pool = [
  { id: 'cdn-1', weight: 1 },
  { id: 'cdn-2', weight: 1 },
  { id: 'cdn-3', weight: 2 },
];
const edges = Array.from({ length: 3000 }, (_, i) => `E-${i}`);
const ids = (key: string, p: readonly { id: string; weight: number }[]) =>
  rankByRendezvous(key, p).map((m) => m.id);

describe('weighted rendezvous', () => {
  it('hashes exactly as the bus does (the broker pool keeps its assignment)', () => {
    for (const text of ['', 'E-1', 'cdn-1', 'Ünïcode-電梯']) assert.equal(fnv1a32(text), busFnv(text));
    for (const [a, b] of [
      [0, 0],
      [1, 2],
      [0xffffffff, 0x12345678],
    ] as const)
      assert.equal(mix32(a, b), busMix(a, b));
  });

  it('ranks every member with a weight, the first being the pick, the same on every call', () => {
    for (const edge of edges.slice(0, 200)) {
      const ranked = ids(edge, pool);
      assert.deepEqual([...ranked].sort(), ['cdn-1', 'cdn-2', 'cdn-3']);
      assert.equal(ranked[0], pickByRendezvous(edge, pool)?.id);
      assert.deepEqual(ids(edge, [...pool].reverse()), ranked, 'the pool’s order does not matter');
    }
    assert.deepEqual(ids('E-1', [...pool, { id: 'off', weight: 0 }]), ids('E-1', pool));
    assert.equal(pickByRendezvous('E-1', []), undefined);
  });

  it('shares by weight; a removed member moves only its edges, an added one takes only its share', () => {
    const firsts = new Map<string, number>();
    for (const edge of edges) {
      const first = ids(edge, pool)[0]!;
      firsts.set(first, (firsts.get(first) ?? 0) + 1);
    }
    assert.ok(
      Math.abs(firsts.get('cdn-3')! / edges.length - 0.5) < 0.05,
      `cdn-3 (2 of 4) took ${firsts.get('cdn-3')}`,
    );

    const without = pool.filter((m) => m.id !== 'cdn-2');
    const grown = [...pool, { id: 'cdn-4', weight: 1 }];
    let moved = 0;
    for (const edge of edges) {
      const before = ids(edge, pool);
      const after = ids(edge, without);
      // The survivors keep their relative order: the fail-over list only loses cdn-2.
      assert.deepEqual(
        after,
        before.filter((id) => id !== 'cdn-2'),
      );
      const added = ids(edge, grown);
      assert.deepEqual(
        added.filter((id) => id !== 'cdn-4'),
        before,
        'the others keep their order',
      );
      if (added[0] !== before[0]) {
        moved++;
        assert.equal(added[0], 'cdn-4', 'an edge moves only to the new mirror');
      }
    }
    assert.ok(
      Math.abs(moved / edges.length - 0.2) < 0.04,
      `the new mirror (1 of 5) took ${moved / edges.length}`,
    );
  });
});
