/** The GC profiler's account: what scavenges promoted, and what the major GCs found young. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type GcStatistic, youngGenerationOf } from './gc-profile.ts';

const spaces = (sizes: Record<string, number>) =>
  Object.entries(sizes).map(([spaceName, spaceUsedSize]) => ({ spaceName, spaceUsedSize }));

function gcOf(gcType: string, before: Record<string, number>, after: Record<string, number>): GcStatistic {
  return {
    gcType,
    beforeGC: { heapSpaceStatistics: spaces(before) },
    afterGC: { heapSpaceStatistics: spaces(after) },
  };
}

test('a scavenge promotes what the old spaces gained; a major GC finds the young generation', () => {
  const young = youngGenerationOf([
    // The young generation shrinks, the old space and the large objects grow: 50 + 10 promoted.
    gcOf(
      'Scavenge',
      { new_space: 8_000, old_space: 100, large_object_space: 0, new_large_object_space: 70 },
      { new_space: 900, old_space: 150, large_object_space: 10, new_large_object_space: 0 },
    ),
    // A major GC that shrinks the old space: none of it counts as promoted.
    gcOf(
      'MarkSweepCompact',
      { new_space: 30, new_large_object_space: 5, old_space: 500 },
      { new_space: 0, new_large_object_space: 0, old_space: 200 },
    ),
    // Marking steps are not collections.
    gcOf('IncrementalMarking', { new_space: 999, old_space: 1 }, { new_space: 999, old_space: 999 }),
    gcOf('Scavenge', { new_space: 10, old_space: 200 }, { new_space: 2, old_space: 205 }),
  ]);
  assert.deepEqual(young, { scavenges: 2, promotedBytes: 65, majorGcs: 1, youngAtMajorBytes: 35 });
});
