/**
 * A hub node in its own process (`devicehub node`), for fault tests, the demo and benchmarks:
 * real `kill -9`, SIGSTOP and SIGTERM, and its JSON log lines to wait on.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { childGroupOptions, killTree } from './process-tree.ts';
import { TS_NODE_ARGS } from './ts-node-args.ts';
import { v8FlagsOf } from './v8-flags.ts';

// Run with TS_NODE_ARGS (no loader, or tsx's loader), never tsx's CLI: the CLI runs the program
// in a second process, and a signal meant for the hub node would reach only the wrapper.
const CLI = fileURLToPath(new URL('../cli/devicehub.ts', import.meta.url));

/** `--redis … --prefix … --shards … --tag-groups …`: a `devicehub` process working in `keyspace`. */
export function keyspaceArgs(
  redisUrl: string,
  keyspace: { prefix: string; shards: number; tagGroups: number },
): string[] {
  return [
    '--redis',
    redisUrl,
    '--prefix',
    keyspace.prefix,
    '--shards',
    String(keyspace.shards),
    '--tag-groups',
    String(keyspace.tagGroups),
  ];
}

export interface HubProcessOptions {
  readonly redisUrl: string;
  readonly nodeId: string;
  readonly prefix?: string;
  readonly shards?: number;
  readonly tagGroups?: number;
  readonly leaseMs?: number;
  readonly tickMs?: number;
  readonly actorsModule?: string;
  readonly traceResume?: boolean;
  readonly logLevel?: string;
  /** Serve Prometheus /metrics on this loopback port (`--metrics-port`). */
  readonly metricsPort?: number;
  /** Called with every log line the node writes (parsed JSON). */
  readonly onLog?: (line: Record<string, unknown>) => void;
  /** Also append its log to this file (see spawnDevicehub). */
  readonly logFile?: string;
  /** Added to its environment (over this process's; `logLevel` still sets DH_LOG_LEVEL). */
  readonly env?: Readonly<Record<string, string>>;
}

/** A hub node process; `ready` once it has joined and taken its first shards, `stop` = SIGTERM hand-off. */
export interface HubProcess extends DevicehubProcess {
  readonly nodeId: string;
}

export function spawnHubNode(options: HubProcessOptions): HubProcess {
  // DH_NODE_ARGS passes extra Node flags to hub processes (e.g. --cpu-prof for profiling).
  const nodeArgs = nodeFlagsOf('DH_NODE_ARGS');
  const args = ['node', '--redis', options.redisUrl, '--id', options.nodeId];
  if (options.prefix) args.push('--prefix', options.prefix);
  if (options.shards) args.push('--shards', String(options.shards));
  if (options.tagGroups) args.push('--tag-groups', String(options.tagGroups));
  if (options.leaseMs) args.push('--lease-ms', String(options.leaseMs));
  if (options.tickMs) args.push('--tick-ms', String(options.tickMs));
  if (options.actorsModule) args.push('--actors-module', options.actorsModule);
  if (options.traceResume) args.push('--trace-resume');
  if (options.metricsPort) args.push('--metrics-port', String(options.metricsPort));
  const proc = spawnDevicehub(args, {
    name: `hub node ${options.nodeId}`,
    nodeArgs,
    env: { ...options.env, DH_LOG_LEVEL: options.logLevel ?? 'info' },
    onLog: options.onLog,
    logFile: options.logFile,
  });
  return { ...proc, nodeId: options.nodeId };
}

/**
 * Extra Node flags for spawned processes from an environment variable, space-separated (the
 * tooling's DH_NODE_ARGS, DH_LINK_ARGS, DH_SIM_ARGS…: `--cpu-prof --cpu-prof-dir=/tmp/p`).
 */
export function nodeFlagsOf(variable: string): string[] {
  return (process.env[variable] ?? '').split(' ').filter(Boolean);
}

export interface DevicehubProcess extends AsyncDisposable {
  readonly child: ChildProcess;
  readonly logs: Record<string, unknown>[];
  /** Resolves when the command reports it is up (over the IPC channel), with what it said. */
  readonly ready: Promise<Record<string, unknown>>;
  readonly exited: Promise<number | null>;
  /** The last 4,000 characters it wrote to stderr (progress lines, errors). */
  stderrTail(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

/** Runs `devicehub <args…>` in its own process (no tsx wrapper: signals reach it directly). */
export function spawnDevicehub(
  args: readonly string[],
  options: {
    name?: string;
    env?: Record<string, string>;
    nodeArgs?: readonly string[];
    onLog?: (line: Record<string, unknown>) => void;
    /** A process group of its own (default: after `ownChildProcesses()`), as a terminal gives a command. */
    processGroup?: boolean;
    /** Its working directory (default: this process's). */
    cwd?: string;
    /**
     * Also append what it writes to this file (its folder is created): its JSON log lines as they
     * are, and each line of stderr (a crash's stack) as a JSON line of its own.
     */
    logFile?: string;
  } = {},
): DevicehubProcess {
  const name = options.name ?? `devicehub ${args[0] ?? ''}`;
  // The command's own V8 flags first, so that nodeArgs (DH_NODE_ARGS…) can turn one off.
  const flags = [...v8FlagsOf(args[0]), ...(options.nodeArgs ?? [])];
  const child = spawn(process.execPath, [...flags, ...TS_NODE_ARGS, CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...options.env },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    detached: options.processGroup ?? childGroupOptions().detached,
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const file = options.logFile === undefined ? undefined : appendTo(options.logFile);
  if (file !== undefined) {
    createInterface({ input: child.stderr! }).on('line', (text) => {
      file.write(`${JSON.stringify({ level: 50, time: Date.now(), name, stream: 'stderr', msg: text })}\n`);
    });
    child.once('close', () => file.end());
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (text) => {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
        file?.write(`${text}\n`);
      } catch {
        line = { msg: text };
        file?.write(`${JSON.stringify({ time: Date.now(), name, msg: text })}\n`);
      }
      // The latest lines only: a demo or cluster runs for days.
      if (logs.length >= 20_000) logs.splice(0, 10_000);
      logs.push(line);
      options.onLog?.(line);
    });
    child.on('message', (message: { ready?: boolean }) => {
      if (message.ready) resolve(message);
    });
    void exited.then((code) =>
      reject(new Error(`${name} exited with ${code} before it was ready: ${stderr}`)),
    );
  });
  ready.catch(() => {});
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // A SIGKILL leaves it no time to stop what it started (the servers of `devicehub cluster` or
    // the demo, in process groups of their own): they are killed with it, not left running.
    if (signal === 'SIGKILL' && child.pid !== undefined) killTree(child.pid);
    else child.kill(signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM') await exited;
  };
  return {
    child,
    logs,
    ready,
    exited,
    stderrTail: () => stderr,
    kill,
    stop: () => kill('SIGTERM'),
    [Symbol.asyncDispose]: () => kill('SIGKILL'),
  };
}

function appendTo(path: string): WriteStream {
  mkdirSync(dirname(path), { recursive: true });
  return createWriteStream(path, { flags: 'a' });
}
