/**
 * Where a process's on-CPU time went, from `perf script -F pid,ip,sym` of a system-wide
 * `perf record -g`: per process (all its threads), its samples, the share that was the kernel's
 * own code, and its share per stage of the hub's path — a stage is the first of a list of
 * substrings that any frame of the sample's stack holds (`parseBody` → the legacy JSON parse).
 *
 * Unlike a V8 CPU profile (`--cpu-prof`), which samples the main thread's stack whether or not it
 * is on a core, perf counts only what ran: a write to Redis that woke Redis and lost the core to
 * it shows as the write's few µs, not as the milliseconds the thread waited (decision 074).
 */

/** One sample: its process and its stack, innermost frame first (`addr symbol`). */
export interface PerfSample {
  readonly pid: number;
  readonly frames: readonly string[];
}

/** A named stage and the frame substrings that put a sample in it. */
export interface Stage {
  readonly name: string;
  readonly match: readonly string[];
}

export interface ProcessSplit {
  readonly pid: number;
  readonly role: string;
  readonly samples: number;
  /** Milliseconds of CPU a second over the recording (samples ÷ frequency ÷ seconds × 1000). */
  readonly cpuMsPerSec: number;
  /** Share of samples whose innermost frame was kernel code (syscalls, the network stack, faults). */
  readonly kernelPct: number;
  /** Share per stage, in the order of the role's stages, then `other`. */
  readonly stages: readonly { readonly name: string; readonly pct: number }[];
  /** What `other` is made of: its samples' innermost JavaScript frame (else innermost frame), largest first. */
  readonly otherTop: readonly { readonly frame: string; readonly pct: number }[];
}

/** Kernel text lives in the top half of the address space. */
const isKernel = (frame: string): boolean => /^ffff[0-9a-f]{12}\b/.test(frame.trimStart());

/** Parses `perf script -F pid,ip,sym` output: a line with the pid, then one indented line per frame. */
export function parsePerfScript(text: string): PerfSample[] {
  const samples: PerfSample[] = [];
  let pid: number | undefined;
  let frames: string[] = [];
  const flush = () => {
    if (pid !== undefined && frames.length > 0) samples.push({ pid, frames });
    pid = undefined;
    frames = [];
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      flush();
      continue;
    }
    if (/^\s/.test(line)) {
      if (pid !== undefined) frames.push(line.trim());
      continue;
    }
    flush();
    const n = Number(line.trim().split(/\s+/)[0]);
    pid = Number.isInteger(n) ? n : undefined;
  }
  flush();
  return samples;
}

/** GC wherever it runs (main thread or V8's helper threads): first, so that it is GC under any stage. */
export const GC_STAGE: Stage = {
  name: 'garbage collection',
  match: ['Scavenger', 'MarkCompact', 'ConcurrentMarking', 'Heap::Collect', 'Sweeper', 'MinorMS'],
};

/** The stages of each hub role, first match wins (JS names need the process run with --perf-basic-prof). */
export const HUB_STAGES: Readonly<Record<string, readonly Stage[]>> = {
  // V8 inlines small functions into their callers, and perf names the caller: each stage also
  // lists the callers its functions are inlined into (the order settles which stage wins).
  link: [
    GC_STAGE,
    { name: 'legacy JSON.parse', match: ['parseBody'] },
    { name: 'entry encoding (pack, stringify)', match: ['encodeMessage', 'packTelemetry', 'encodeEntry'] },
    {
      name: 'Redis commands & writes',
      match: ['execPipeline', 'Pipeline.js', 'Script.js', 'bus/mailbox.ts'],
    },
    { name: 'Redis replies', match: ['redis-parser', 'DataHandler'] },
    { name: 'MQTT packet parsing', match: ['mqtt-packet/'] },
    {
      name: 'decode, checks, batching',
      match: ['decodeLegacy', 'decodeCompact', 'link/ingest.ts', 'mqtt-link.ts'],
    },
    { name: 'mqtt.js (acks, handlers)', match: ['mqtt/build'] },
  ],
  node: [
    GC_STAGE,
    { name: 'placement & leases', match: ['placement.ts', 'renewLeases', 'bus/membership.ts'] },
    { name: 'upkeep (trim, timers)', match: ['upkeep.ts'] },
    { name: 'entry decoding & sorting', match: ['decodeRawEntry', 'tryDecode', 'sortEntries'] },
    { name: 'handlers (apply)', match: ['applyQueues'] },
    { name: 'commit & checkpoints', match: ['commitTurn', 'commitAll'] },
    { name: 'read (XREADGROUP)', match: ['readEntries', 'readReady', 'readShards'] },
    { name: 'Redis replies', match: ['redis-parser', 'DataHandler'] },
    { name: 'turn loop', match: ['runTurn', 'turn-loop.ts'] },
  ],
};

/**
 * Splits samples per process. `roles` names the processes to report (others are left out);
 * `hz` is the recording's frequency and `seconds` its length.
 */
export function splitByProcess(
  samples: readonly PerfSample[],
  o: {
    readonly roles: ReadonlyMap<number, string>;
    readonly hz: number;
    readonly seconds: number;
    readonly stages?: Readonly<Record<string, readonly Stage[]>>;
  },
): ProcessSplit[] {
  const stagesOf = o.stages ?? HUB_STAGES;
  const byPid = new Map<number, PerfSample[]>();
  for (const s of samples) {
    if (!o.roles.has(s.pid)) continue;
    const list = byPid.get(s.pid);
    if (list === undefined) byPid.set(s.pid, [s]);
    else list.push(s);
  }
  const splits: ProcessSplit[] = [];
  for (const [pid, role] of o.roles) {
    const mine = byPid.get(pid) ?? [];
    const stages = stagesOf[role] ?? [GC_STAGE];
    const counts = new Array<number>(stages.length + 1).fill(0);
    let kernel = 0;
    const other = new Map<string, number>();
    for (const { frames } of mine) {
      if (isKernel(frames[0]!)) kernel++;
      const i = stages.findIndex((st) => frames.some((f) => st.match.some((m) => f.includes(m))));
      counts[i === -1 ? stages.length : i]!++;
      if (i === -1) {
        const frame = (frames.find((f) => f.includes('JS:')) ?? frames[0]!).replace(/^[0-9a-f]+ /, '');
        other.set(frame, (other.get(frame) ?? 0) + 1);
      }
    }
    const pct = (n: number) => (mine.length === 0 ? 0 : Math.round((1000 * n) / mine.length) / 10);
    splits.push({
      pid,
      role,
      samples: mine.length,
      cpuMsPerSec: Math.round((10 * (mine.length / o.hz) * 1000) / o.seconds) / 10,
      kernelPct: pct(kernel),
      stages: [
        ...stages.map((st, i) => ({ name: st.name, pct: pct(counts[i]!) })),
        { name: 'other', pct: pct(counts[stages.length]!) },
      ],
      otherTop: [...other]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8)
        .map(([frame, n]) => ({ frame, pct: pct(n) })),
    });
  }
  return splits.sort((a, b) => b.samples - a.samples);
}
