/**
 * The peers bench's delivery record and tally (measure.ts, tally.ts): the smoke case asserts
 * DeviceHub's lost, duplicated and outOfOrder are 0, which says something only if these count
 * what they should.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addRun, type Delivery, deliver, initialPeerState, runsCount, runsHas } from './measure.ts';
import { tally } from './tally.ts';

const delivered = (seqs: readonly number[]): Delivery =>
  seqs.reduce((d, seq) => deliver(d, seq), initialPeerState('E-000000').d);

describe('bench/peers delivery record', () => {
  it('keeps applied numbers as sorted, disjoint runs, joined when they meet', () => {
    assert.deepEqual(addRun([], 5), [5, 5]);
    assert.deepEqual(addRun([5, 5], 6), [5, 6]);
    assert.deepEqual(addRun([5, 6], 4), [4, 6]);
    assert.deepEqual(addRun([1, 2, 4, 5], 3), [1, 5]);
    assert.deepEqual(addRun([1, 2, 8, 9], 5), [1, 2, 5, 5, 8, 9]);
    assert.deepEqual(addRun([3, 4], 1), [1, 1, 3, 4]);
    assert.equal(addRun([1, 5], 3), undefined);
    // Against a set, over random arrivals.
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let trial = 0; trial < 200; trial++) {
      let runs: number[] = [];
      const seen = new Set<number>();
      for (let k = 0; k < 30; k++) {
        const seq = 1 + Math.floor(random() * 25);
        const next = addRun(runs, seq);
        assert.equal(next === undefined, seen.has(seq), `${seq} into ${runs}`);
        seen.add(seq);
        runs = next ?? runs;
        for (let i = 2; i < runs.length; i += 2) assert.ok(runs[i]! > runs[i - 1]! + 1, `${runs}`);
        assert.equal(runsCount(runs), seen.size);
        for (let s = 0; s <= 26; s++) assert.equal(runsHas(runs, s), seen.has(s));
      }
    }
  });

  it('counts a number applied again and one arriving after a higher one', () => {
    assert.deepEqual(delivered([1, 2, 3]), { max: 3, runs: [1, 3], dup: 0, ooo: 0 });
    assert.deepEqual(delivered([1, 3, 2, 3]), { max: 3, runs: [1, 3], dup: 1, ooo: 1 });
  });

  it('tallies acknowledged numbers in no state as lost, those the producer saw fail excepted', () => {
    const state = (seqs: number[]) => ({ ...initialPeerState('E'), d: delivered(seqs) });
    const result = tally([state([1, 2, 4, 4]), undefined, state([2, 1])], {
      lastSeq: [5, 2, 2],
      failed: { 0: [5], 1: [2] },
    });
    // Edge 0: 3 missing (5 failed); edge 1: 1 missing (2 failed); edge 2: all there, late.
    assert.deepEqual(result, { applied: 5, lost: 2, duplicated: 1, outOfOrder: 1 });
  });
});
