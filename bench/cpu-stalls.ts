/**
 * The stretches of a V8 CPU profile (`node --cpu-prof`) in which the main thread never went idle
 * for at least `minMs`: the event-loop stalls a latency tail is made of, each with what ran in it
 * (self time by function, garbage collection on its own line). A spike in a per-second p99 that
 * lines up with a stall here is the process's own; one with none is the machine's (another process
 * had the core).
 *
 *   node --import tsx bench/cpu-stalls.ts <file.cpuprofile> [--min-ms 30] [--top 6]
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Stall {
  /** When it began, ms after the profile began. */
  readonly atMs: number;
  readonly lengthMs: number;
  readonly gcMs: number;
  /** Self time by function (`name file:line`), the largest first. */
  readonly top: readonly { readonly frame: string; readonly ms: number }[];
}

const IDLE = '(idle)';
const GC = '(garbage collector)';

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^.*\/(node_modules\/)?/, '');
  return `${functionName || '(anonymous)'}${file === '' ? '' : ` ${file}:${lineNumber + 1}`}`;
}

/** The profile's busy stretches of at least `minMs`, in time order. */
export function findStalls(profile: Profile, minMs: number, top = 6): Stall[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const stalls: Stall[] = [];
  let t = 0;
  let start = -1;
  let self = new Map<string, number>();
  let gc = 0;
  const close = (end: number) => {
    const lengthMs = (end - start) / 1000;
    if (start >= 0 && lengthMs >= minMs)
      stalls.push({
        atMs: Math.round(start / 1000),
        lengthMs: Math.round(lengthMs * 10) / 10,
        gcMs: Math.round(gc / 100) / 10,
        top: [...self]
          .sort((a, b) => b[1] - a[1])
          .slice(0, top)
          .map(([frame, us]) => ({ frame, ms: Math.round(us / 100) / 10 })),
      });
    start = -1;
    self = new Map();
    gc = 0;
  };
  for (let i = 0; i < profile.samples.length; i++) {
    // A sample's delta is the time since the previous one: spent in what the previous one saw.
    const delta = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(profile.samples[i] as number);
    const name = node?.callFrame.functionName ?? IDLE;
    if (name === IDLE) close(t);
    else {
      if (start < 0) start = t;
      if (name === GC) gc += delta;
      const frame = node === undefined ? '?' : frameName(node);
      self.set(frame, (self.get(frame) ?? 0) + delta);
    }
    t += delta;
  }
  close(t);
  return stalls;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'min-ms': { type: 'string', default: '30' }, top: { type: 'string', default: '6' } },
  });
  const file = positionals[0];
  if (file === undefined) throw new Error('usage: cpu-stalls.ts <file.cpuprofile> [--min-ms 30] [--top 6]');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const stalls = findStalls(profile, Number(values['min-ms']), Number(values.top));
  const out = process.stdout;
  out.write(`${stalls.length} stretches busy for ≥ ${values['min-ms']} ms\n`);
  out.write('| at (s) | busy (ms) | GC (ms) | most self time |\n|---:|---:|---:|---|\n');
  for (const s of stalls)
    out.write(
      `| ${(s.atMs / 1000).toFixed(2)} | ${s.lengthMs} | ${s.gcMs} | ${s.top.map((f) => `${f.frame} ${f.ms}`).join('; ')} |\n`,
    );
}
