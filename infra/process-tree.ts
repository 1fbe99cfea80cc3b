/**
 * The processes this one started, and their children, read from /proc (Linux): what the demo,
 * `devicehub cluster` and the benchmarks kill when they exit, and what tests check is gone.
 * Elsewhere than Linux the lists are empty and nothing is killed.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  /** The command line, arguments joined by spaces. */
  readonly command: string;
}

function readProcess(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return undefined; // a zombie has exited: only its parent's wait is due
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return { pid, ppid: Number(fields[1]), command };
  } catch {
    return undefined; // gone meanwhile, or not Linux
  }
}

/** Every live descendant of `pid` (children, their children, …), parents before children. */
export function descendants(pid: number = process.pid): ProcessInfo[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const byParent = new Map<number, ProcessInfo[]>();
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const info = readProcess(Number(name));
    if (info === undefined) continue;
    const siblings = byParent.get(info.ppid) ?? [];
    siblings.push(info);
    byParent.set(info.ppid, siblings);
  }
  const found: ProcessInfo[] = [];
  const queue = [pid];
  for (let parent = queue.shift(); parent !== undefined; parent = queue.shift()) {
    for (const child of byParent.get(parent) ?? []) {
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

/** Sends `signal` to each of `pids`, skipping those gone meanwhile. */
export function signalEach(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // exited meanwhile
    }
  }
}

/**
 * Sends `signal` to every descendant of this process (synchronous, so it also works in an
 * `exit` handler); returns the ones it signalled.
 */
export function killDescendants(signal: NodeJS.Signals = 'SIGKILL'): ProcessInfo[] {
  const found = descendants();
  signalEach(
    found.map((p) => p.pid),
    signal,
  );
  return found;
}

/**
 * Stops `pid` and every process under it (SIGSTOP), from the top down until no new one appears,
 * and returns them all, `pid` first: a stopped process starts nothing more, so the list is the
 * whole tree. A snapshot taken while it runs can miss a child it spawns a moment later, which a
 * SIGKILL of the parent then leaves running (a `devicehub cluster` killed while starting once left
 * its VictoriaLogs behind).
 */
export function freezeTree(pid: number): number[] {
  const frozen: number[] = [];
  const seen = new Set<number>();
  for (let next = [pid]; next.length > 0; ) {
    signalEach(next, 'SIGSTOP');
    // SIGSTOP takes effect when the process next leaves the kernel: one preempted inside a fork
    // (two busy cores) finishes it first, and a list read before then misses that child, which
    // outlives the SIGKILL (a `devicehub cluster` killed while starting left its Redis so).
    untilStopped(next);
    for (const p of next) seen.add(p);
    frozen.push(...next);
    next = descendants(pid)
      .map((p) => p.pid)
      .filter((p) => !seen.has(p));
  }
  return frozen;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Whether every thread of `pid` is stopped (or the process is gone or a zombie). */
function stopped(pid: number): boolean {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return true; // gone
  }
  return tasks.every((task) => {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
      return 'TtZX'.includes(stat.charAt(stat.lastIndexOf(')') + 2));
    } catch {
      return true; // the thread or the process ended meanwhile
    }
  });
}

/**
 * Waits (synchronously: it also runs in `exit` handlers) until each of `pids` is stopped, at most
 * `timeoutMs` in all: one in uninterruptible sleep stops only when it wakes.
 */
function untilStopped(pids: readonly number[], timeoutMs = 2000): void {
  const deadline = Date.now() + timeoutMs;
  for (const pid of pids) {
    while (!stopped(pid) && Date.now() < deadline) Atomics.wait(pause, 0, 0, 1);
  }
}

/** SIGKILL to `pid` and every process under it, none left to start another (freezeTree first). */
export function killTree(pid: number): void {
  signalEach(freezeTree(pid), 'SIGKILL');
}

let separateGroups = false;
let exitHandler = false;

/**
 * For a process that orders its children's shutdown itself (the demo, `devicehub cluster`, a
 * benchmark): children started from now on by `spawnDevicehub` and `startRedisServer` get a
 * process group of their own, so a terminal's Ctrl-C reaches only this process, which stops them
 * in order (hub nodes before Redis); and whatever is still running when this process exits is
 * killed (SIGKILL), so nothing is left behind after a failure either.
 */
export function ownChildProcesses(): void {
  separateGroups = true;
  if (exitHandler) return;
  exitHandler = true;
  process.on('exit', () => void killDescendants('SIGKILL'));
}

/** Spawn options for a child: its own process group after `ownChildProcesses()`. */
export function childGroupOptions(): { detached: boolean } {
  return { detached: separateGroups };
}

/** Those of `pids` still running (not zombies), e.g. the descendants of a process that exited. */
export function stillRunning(pids: readonly number[]): ProcessInfo[] {
  return pids.map(readProcess).filter((p): p is ProcessInfo => p !== undefined);
}

/**
 * Every process that runs under `pid` from now until disposed, sampled every 50 ms: what a test
 * checks is gone after a stop, including processes started and left while it was stopping.
 */
export function watchDescendants(pid: number): Disposable & { readonly pids: () => number[] } {
  const seen = new Set(descendants(pid).map((p) => p.pid));
  const timer = setInterval(() => {
    for (const p of descendants(pid)) seen.add(p.pid);
  }, 50);
  return {
    pids: () => [...seen],
    [Symbol.dispose]: () => clearInterval(timer),
  };
}

/**
 * Waits (at most `timeoutMs`) until none of `pids` — by default every descendant of this process
 * but `ignore` — runs any more; fails naming those left.
 */
export async function waitUntilGone(
  options: { pids?: readonly number[]; ignore?: readonly number[]; timeoutMs?: number } = {},
): Promise<void> {
  const ignore = new Set(options.ignore ?? []);
  const left = () =>
    (options.pids === undefined ? descendants() : stillRunning(options.pids)).filter(
      (p) => !ignore.has(p.pid),
    );
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    const running = left();
    if (running.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(
        `${running.length} process(es) left behind: ${running.map((p) => `${p.pid} ${p.command.slice(0, 160)}`).join('; ')}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Stops every descendant of this process: SIGTERM, then SIGKILL for those still running after
 * `graceMs`; returns those that had to be killed.
 */
export async function stopDescendants(graceMs = 5000): Promise<ProcessInfo[]> {
  const found = killDescendants('SIGTERM');
  await waitUntilGone({ pids: found.map((p) => p.pid), timeoutMs: graceMs }).catch(() => {});
  const left = stillRunning(found.map((p) => p.pid));
  signalEach(
    left.map((p) => p.pid),
    'SIGKILL',
  );
  return left;
}
