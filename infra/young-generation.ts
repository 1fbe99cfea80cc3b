/**
 * What V8's own GC profiler (`v8.GCProfiler`) says the young generation did: how many scavenges,
 * the bytes they promoted (old generation used after less before, exact), and the major GCs with
 * what was in the young generation when each began. Pure: bench/gc-profile.ts reads it from a
 * process over the inspector, tests from their own (bus/ioredis-patch.test.ts).
 */

/** Heap space sizes around one GC, as `v8.GCProfiler` reports them. */
export interface GcStatistic {
  readonly gcType: string;
  readonly beforeGC: { readonly heapSpaceStatistics: readonly SpaceUse[] };
  readonly afterGC: { readonly heapSpaceStatistics: readonly SpaceUse[] };
}

interface SpaceUse {
  readonly spaceName: string;
  readonly spaceUsedSize: number;
}

export interface YoungGeneration {
  readonly scavenges: number;
  /** Bytes the scavenges moved into the old generation (its spaces' use after less before). */
  readonly promotedBytes: number;
  readonly majorGcs: number;
  /** Bytes in the young generation when the major GCs began, summed: live or not, a major GC frees what of it is dead. */
  readonly youngAtMajorBytes: number;
}

const YOUNG = new Set(['new_space', 'new_large_object_space']);
const MINOR = new Set(['Scavenge', 'MinorMarkCompact']);

function used(spaces: readonly SpaceUse[], young: boolean): number {
  let sum = 0;
  for (const s of spaces) if (YOUNG.has(s.spaceName) === young) sum += s.spaceUsedSize;
  return sum;
}

/** Scavenges and what they promoted, major GCs and the young generation they found. */
export function youngGenerationOf(statistics: readonly GcStatistic[]): YoungGeneration {
  let scavenges = 0;
  let promotedBytes = 0;
  let majorGcs = 0;
  let youngAtMajorBytes = 0;
  for (const s of statistics) {
    if (MINOR.has(s.gcType)) {
      scavenges++;
      const old = used(s.afterGC.heapSpaceStatistics, false) - used(s.beforeGC.heapSpaceStatistics, false);
      promotedBytes += Math.max(0, old);
    } else if (s.gcType === 'MarkSweepCompact') {
      majorGcs++;
      youngAtMajorBytes += used(s.beforeGC.heapSpaceStatistics, true);
    }
  }
  return { scavenges, promotedBytes, majorGcs, youngAtMajorBytes };
}
