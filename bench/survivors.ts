/**
 * What a running process's young generation promoted, by where it was allocated: V8's sampling
 * heap profiler over the inspector, keeping the samples of objects that a major GC freed or that
 * are still alive at the end, and dropping those a scavenge freed. What is left is what survived
 * the young generation: the memory a process's scavenges copy and its major GCs then free, which a
 * CPU profile shows only as "(garbage collector)". The process must listen with `--inspect`.
 *
 *   DH_GATEWAY_ARGS="--inspect=127.0.0.1:9339" npm run bench -- screens --edges 50000 --seconds 30
 *   node --import tsx bench/survivors.ts --port 9339 [--seconds 15] [--depth 3] [--top 25]
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

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

/** The inspector's WebSocket address of the process listening on `port`. */
async function debuggerUrl(port: number): Promise<string> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
    webSocketDebuggerUrl?: string;
  }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (url === undefined) throw new Error(`no inspector target on port ${port}`);
  return url;
}

/**
 * Samples allocations in the process whose inspector listens on `port` for `seconds`, keeping
 * only what outlived the young generation; `onSecond` is called each second (progress).
 */
export async function sampleSurvivors(o: {
  port: number;
  seconds: number;
  /** Bytes between samples (default 16 KiB). */
  interval?: number;
  onSecond?: (second: number) => void;
}): Promise<SamplingProfile> {
  const socket = new WebSocket(await debuggerUrl(o.port));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const pending = new Map<number, (reply: { result?: unknown; error?: { message: string } }) => void>();
  socket.on('message', (data) => {
    const reply = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (reply.id !== undefined) pending.get(reply.id)?.(reply);
  });
  let last = 0;
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const id = ++last;
      pending.set(id, (reply) => {
        pending.delete(id);
        if (reply.error !== undefined) reject(new Error(`${method}: ${reply.error.message}`));
        else resolve(reply.result);
      });
      socket.send(JSON.stringify({ id, method, params }));
    });
  try {
    await call('HeapProfiler.enable');
    await call('HeapProfiler.startSampling', {
      samplingInterval: o.interval ?? 16_384,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: false,
    });
    for (let s = 1; s <= o.seconds; s++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      o.onSecond?.(s);
    }
    const { profile } = (await call('HeapProfiler.stopSampling')) as { profile: SamplingProfile };
    return profile;
  } finally {
    socket.close();
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
  const profile = await sampleSurvivors({
    port: Number(values.port),
    seconds,
    onSecond: (s) => process.stderr.write(`survivors: ${s}/${seconds} s\n`),
  });
  const sites = survivorSites(profile, Number(values.depth));
  const total = sites.reduce((sum, s) => sum + s.bytes, 0);
  process.stdout.write(`Survived the young generation in ${seconds} s: ${(total / 1e6).toFixed(1)} MB\n\n`);
  process.stdout.write('|    MB | share | allocated at < called from |\n| ----: | ----: | --- |\n');
  for (const s of sites.slice(0, Number(values.top)))
    process.stdout.write(
      `| ${(s.bytes / 1e6).toFixed(2)} | ${((100 * s.bytes) / total).toFixed(1)} % | ${s.site.replaceAll('|', '\\|')} |\n`,
    );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
