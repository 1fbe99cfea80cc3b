/**
 * What a running process's garbage collector did over a window, from V8's own GC profiler
 * (`v8.GCProfiler`, started in the process over the inspector): how many scavenges, the bytes
 * they promoted (old generation used after less before, exact), and the major GCs with what was
 * in the young generation when each began. The sampling heap profiler (survivors.ts) cannot
 * tell an object that died young but was freed by a major GC from one that was promoted; the
 * young generation at the majors bounds how much of its figure that is.
 */
import type { Inspector } from './inspector.ts';

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

/**
 * Starts V8's GC profiler in the inspected process (Node ≥ 20.16: `process.getBuiltinModule`);
 * `stop` ends it and hands back what it recorded.
 */
export async function startGcProfile(
  inspector: Inspector,
): Promise<{ stop(): Promise<readonly GcStatistic[]> }> {
  const name = `__devicehubGcProfiler${process.pid}`;
  await inspector.evaluate(`(() => {
    if (typeof process.getBuiltinModule !== 'function') throw new Error('Node 20.16 or later is needed (process.getBuiltinModule)');
    const profiler = new (process.getBuiltinModule('node:v8').GCProfiler)();
    profiler.start();
    globalThis[${JSON.stringify(name)}] = profiler;
  })()`);
  return {
    async stop() {
      const json = (await inspector.evaluate(`(() => {
        const profiler = globalThis[${JSON.stringify(name)}];
        delete globalThis[${JSON.stringify(name)}];
        return JSON.stringify(profiler.stop().statistics);
      })()`)) as string;
      return JSON.parse(json) as GcStatistic[];
    },
  };
}
