/**
 * What a running process's young generation promoted, by where it was allocated: V8's sampling
 * heap profiler over the inspector, keeping the samples of objects that a major GC freed or that
 * are still alive at the end, and dropping those a scavenge freed. What is left is mostly what
 * survived the young generation: the memory a process's scavenges copy and its major GCs then
 * free, which a CPU profile shows only as "(garbage collector)". Not only: a major GC collects the
 * young generation too, and what died young since the last scavenge is then kept as well, so a
 * site that allocates much shows even if it keeps nothing. V8's GC profiler, run over the same
 * window, says how much that can be and what was really promoted (gc-profile.ts). The process
 * must listen with `--inspect`.
 *
 *   DH_GATEWAY_ARGS="--inspect=127.0.0.1:9339" npm run bench -- screens --edges 50000 --seconds 30
 *   node --import tsx bench/survivors.ts --port 9339 [--seconds 15] [--depth 3] [--top 25]
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startGcProfile, type YoungGeneration, youngGenerationOf } from './gc-profile.ts';
import { openInspector } from './inspector.ts';

interface SampleNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SampleNode[];
}

/** The sampling heap profile (Chrome DevTools protocol, HeapProfiler.SamplingHeapProfile). */
export interface SamplingProfile {
  head: SampleNode;
}

export interface SurvivorSite {
  /** The allocating frame first, then its callers (`name file:line`). */
  readonly site: string;
  readonly bytes: number;
}

/** What a sampling window found: the sampled survivors and what the GC did meanwhile. */
export interface Survivors {
  readonly profile: SamplingProfile;
  /** V8's own account of the window (gc-profile.ts): exact promoted bytes, and the majors' share of the profile. */
  readonly gc: YoungGeneration;
}

/**
 * Samples allocations in the process whose inspector listens on `port` for `seconds`, keeping
 * only what outlived the young generation; `onSecond` is called each second (progress). A
 * sample is kept unless a scavenge freed it, so an object that died young but was freed by a
 * major GC (which collects the young generation too) is kept as well: `gc.youngAtMajorBytes`
 * bounds how much of the profile that is, and `gc.promotedBytes` is what was promoted.
 */
export async function sampleSurvivors(o: {
  port: number;
  seconds: number;
  /** Bytes between samples (default 16 KiB). */
  interval?: number;
  onSecond?: (second: number) => void;
}): Promise<Survivors> {
  const inspector = await openInspector(o.port);
  try {
    await inspector.call('HeapProfiler.enable');
    await inspector.call('HeapProfiler.startSampling', {
      samplingInterval: o.interval ?? 16_384,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: false,
    });
    const gcProfile = await startGcProfile(inspector);
    for (let s = 1; s <= o.seconds; s++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      o.onSecond?.(s);
    }
    const gc = youngGenerationOf(await gcProfile.stop());
    const { profile } = (await inspector.call('HeapProfiler.stopSampling')) as { profile: SamplingProfile };
    return { profile, gc };
  } finally {
    inspector.close();
  }
}

function frameName(node: SampleNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^.*\/(node_modules\/)?/, '');
  return `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
}

/** Sampled bytes by allocation site (the allocating frame and `depth - 1` callers), the largest first. */
export function survivorSites(profile: SamplingProfile, depth = 3): SurvivorSite[] {
  const bytes = new Map<string, number>();
  const walk = (node: SampleNode, stack: string[]) => {
    const here = [...stack, frameName(node)];
    if (node.selfSize > 0) {
      const site = here.slice(-depth).reverse().join(' < ');
      bytes.set(site, (bytes.get(site) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, here);
  };
  walk(profile.head, []);
  return [...bytes].map(([site, n]) => ({ site, bytes: n })).sort((a, b) => b.bytes - a.bytes);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      seconds: { type: 'string', default: '15' },
      depth: { type: 'string', default: '3' },
      top: { type: 'string', default: '25' },
    },
  });
  if (values.port === undefined) throw new Error('--port: the inspector port of the process to sample');
  const seconds = Number(values.seconds);
  const { profile, gc } = await sampleSurvivors({
    port: Number(values.port),
    seconds,
    onSecond: (s) => process.stderr.write(`survivors: ${s}/${seconds} s\n`),
  });
  const sites = survivorSites(profile, Number(values.depth));
  const total = sites.reduce((sum, s) => sum + s.bytes, 0);
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  process.stdout.write(
    `In ${seconds} s: ${gc.scavenges} scavenges promoted ${mb(gc.promotedBytes)} MB (V8's GC profiler); ` +
      `${gc.majorGcs} major GCs found ${mb(gc.youngAtMajorBytes)} MB in the young generation.\n` +
      `Sampled as not freed by a scavenge: ${mb(total)} MB, by where it was allocated. What died young and ` +
      `was freed by a major GC is in it too (at most the ${mb(gc.youngAtMajorBytes)} MB above), ` +
      'so a site that allocates much and keeps nothing still shows.\n\n',
  );
  process.stdout.write('|    MB | share | allocated at < called from |\n| ----: | ----: | --- |\n');
  for (const s of sites.slice(0, Number(values.top)))
    process.stdout.write(
      `| ${(s.bytes / 1e6).toFixed(2)} | ${((100 * s.bytes) / total).toFixed(1)} % | ${s.site.replaceAll('|', '\\|')} |\n`,
    );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
