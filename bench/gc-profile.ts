/**
 * What a running process's garbage collector did over a window, from V8's own GC profiler
 * (`v8.GCProfiler`, started in the process over the inspector): how many scavenges, the bytes
 * they promoted (old generation used after less before, exact), and the major GCs with what was
 * in the young generation when each began. The sampling heap profiler (survivors.ts) cannot
 * tell an object that died young but was freed by a major GC from one that was promoted; the
 * young generation at the majors bounds how much of its figure that is.
 */
import type { GcStatistic } from '../infra/young-generation.ts';
import type { Inspector } from './inspector.ts';

export { type GcStatistic, type YoungGeneration, youngGenerationOf } from '../infra/young-generation.ts';

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
