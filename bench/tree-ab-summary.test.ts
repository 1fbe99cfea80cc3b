/**
 * tree-ab's summary of alternated runs: means, medians, the geometric mean of the pairs' new ÷
 * old and the pairs that went the other way, the table, and a clear refusal of a run without a
 * field.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pairsTable, summarizePairs } from './tree-ab-summary.ts';

const PAIRS = [
  { old: { cpuMicrosPerMsg: 50, floorRatio: 1.6 }, new: { cpuMicrosPerMsg: 45, floorRatio: 1.5 } },
  { old: { cpuMicrosPerMsg: 40, floorRatio: 1.4 }, new: { cpuMicrosPerMsg: 44, floorRatio: 1.4 } },
  { old: { cpuMicrosPerMsg: 60, floorRatio: 2.0 }, new: { cpuMicrosPerMsg: 48, floorRatio: 1.8 } },
];

describe('tree-ab summary', () => {
  it('gives means, medians, the geometric mean of new ÷ old and the pairs that went the other way', () => {
    const [cpu, ratio] = summarizePairs(PAIRS, ['cpuMicrosPerMsg', 'floorRatio']);
    assert.equal(cpu?.meanOld, 50);
    assert.equal(cpu?.meanNew, (45 + 44 + 48) / 3);
    assert.equal(cpu?.medianOld, 50);
    assert.equal(cpu?.medianNew, 45);
    // (0.9 × 1.1 × 0.8)^(1/3)
    assert.ok(Math.abs(cpu!.geoMeanRatio - Math.cbrt(0.9 * 1.1 * 0.8)) < 1e-12, String(cpu?.geoMeanRatio));
    assert.equal(cpu?.newHigher, 1);
    assert.equal(ratio?.newHigher, 0, 'an equal pair is not higher');
    assert.deepEqual(ratio?.pairs, [
      [1.6, 1.5],
      [1.4, 1.4],
      [2.0, 1.8],
    ]);
  });

  it('writes one row a pair, then the mean and the median, then the geometric means', () => {
    const table = pairsTable(summarizePairs(PAIRS, ['cpuMicrosPerMsg']));
    const lines = table.split('\n');
    assert.equal(lines[0], '| pair | cpuMicrosPerMsg old → new |');
    assert.equal(lines[2], '| 1 | 50.00 → 45.00 |');
    assert.equal(lines[5], '| mean | **50.00 → 45.67** |');
    assert.equal(lines[6], '| median | 50.00 → 45.00 |');
    assert.match(table, /cpuMicrosPerMsg 0\.925 \(new higher in 1 of 3\)/);
  });

  it('refuses a run without the field, naming the pair and the tree', () => {
    const broken = [...PAIRS, { old: { cpuMicrosPerMsg: 50 }, new: { cpuMicrosPerMsg: 'n/a' } }];
    assert.throws(
      () => summarizePairs(broken, ['cpuMicrosPerMsg']),
      /pair 4, new tree has no positive number "cpuMicrosPerMsg" \(got "n\/a"\)/,
    );
    assert.throws(() => summarizePairs([], ['cpuMicrosPerMsg']), /no pairs/);
  });
});
