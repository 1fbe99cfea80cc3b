/**
 * The `rollout` benchmark's simulated edges: `processes` load processes (rollout-load.ts), each
 * with its share of the fleet, followed over their IPC channels. The sums of their last reports,
 * failure injection, the healthy times at the end, and their CPU (user + system, from /proc).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nodeFlagsOf, TS_NODE_ARGS, waitFor } from '../infra/mod.ts';
import { processCpuMicros } from './proc-cpu.ts';

const LOAD = fileURLToPath(new URL('./rollout-load.ts', import.meta.url));

/** Per rollout: when each edge reported healthy (ms since the epoch), and the edges commanded. */
type Summary = Record<string, { healthyAt: number[]; commanded: string[] }>;

interface Progress {
  connected: number;
  publishErrors: number;
  commands: number;
  bytesVerified: number;
  rollouts: Record<string, { healthy: number; rolledBack: number; failed: number }>;
  errors: Record<string, number>;
  reasons: string[];
  tufRetries: number;
}

export interface RolloutEdgesOptions {
  readonly edges: number;
  readonly processes: number;
  readonly mqttUrl: string;
  readonly mirrors: readonly string[];
  readonly metadataUrl: string;
  readonly rootFile: string;
  readonly dataDir: string;
  readonly installMs: number;
}

export type RolloutEdges = Awaited<ReturnType<typeof startRolloutEdges>>;

/** Starts the load processes and waits until every edge is connected (2 minutes at most). */
export async function startRolloutEdges(o: RolloutEdgesOptions) {
  const children: { child: ChildProcess; last: Progress | undefined; summary?: Summary }[] = [];
  const per = Math.ceil(o.edges / o.processes);
  for (let from = 0; from < o.edges; from += per) {
    // DH_LOAD_ARGS passes extra Node flags to the load processes (e.g. --cpu-prof for profiling).
    const nodeArgs = nodeFlagsOf('DH_LOAD_ARGS');
    const args = [
      ...nodeArgs,
      ...TS_NODE_ARGS,
      ...[LOAD, '--url', o.mqttUrl, '--from', String(from)],
      ...['--count', String(Math.min(per, o.edges - from)), '--mirrors', o.mirrors.join(',')],
      ...['--metadata-url', o.metadataUrl, '--root-file', o.rootFile, '--data-dir', o.dataDir],
      ...['--install-ms', String(o.installMs), '--connect-rate', String(Math.ceil(500 / o.processes))],
    ];
    // Hundreds of downloads at once each write and read their files through libuv's pool (4 threads by default).
    const env = { ...process.env, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '16' };
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env });
    const entry: (typeof children)[number] = { child, last: undefined };
    child.on('message', (m: { type: string; rollouts?: Summary } & Progress) => {
      if (m.type === 'progress') entry.last = m;
      else if (m.type === 'summary') entry.summary = m.rollouts ?? {};
    });
    children.push(entry);
  }
  const sum = () => {
    const total: Progress = {
      reasons: children.flatMap((c) => c.last?.reasons ?? []).slice(0, 5),
      connected: 0,
      tufRetries: 0,
      publishErrors: 0,
      commands: 0,
      bytesVerified: 0,
      rollouts: {},
      errors: {},
    };
    for (const { last } of children) {
      if (last === undefined) continue;
      total.connected += last.connected;
      total.publishErrors += last.publishErrors;
      total.tufRetries += last.tufRetries;
      total.commands += last.commands;
      total.bytesVerified += last.bytesVerified;
      for (const [id, r] of Object.entries(last.rollouts)) {
        const t = total.rollouts[id] ?? { healthy: 0, rolledBack: 0, failed: 0 };
        total.rollouts[id] = t;
        t.healthy += r.healthy;
        t.rolledBack += r.rolledBack;
        t.failed += r.failed;
      }
      for (const [code, n] of Object.entries(last.errors)) total.errors[code] = (total.errors[code] ?? 0) + n;
    }
    return total;
  };
  const summarize = async (): Promise<Summary[]> => {
    for (const c of children) {
      c.summary = undefined;
      c.child.send({ type: 'summary' });
    }
    await waitFor(() => children.every((c) => c.summary !== undefined), {
      timeoutMs: 30_000,
      message: 'the load processes to send their summaries',
    });
    return children.map((c) => c.summary!);
  };
  const edges = {
    /** The processes' reports summed. */
    progress: sum,
    /** CPU (user + system) the load processes have used so far, µs. */
    cpuMicros: () => children.reduce((s, { child }) => s + processCpuMicros(child.pid), 0),
    /** These edges' installs of `version` miss their health gate. */
    fail(version: string, ids: readonly string[]): void {
      for (const { child } of children) child.send({ type: 'fail', version, edges: ids });
    },
    /** When each edge reported healthy in `rollout` (ms since the epoch, sorted), from every process. */
    async healthyAt(rollout: string): Promise<number[]> {
      const summaries = await summarize();
      return summaries.flatMap((s) => s[rollout]?.healthyAt ?? []).sort((a, b) => a - b);
    },
    /** The edges `rollout` sent an `update` command to. */
    async commanded(rollout: string): Promise<string[]> {
      const summaries = await summarize();
      return summaries.flatMap((s) => s[rollout]?.commanded ?? []);
    },
    async [Symbol.asyncDispose](): Promise<void> {
      for (const { child } of children) if (child.connected) child.send({ type: 'stop' });
      await waitFor(
        () => children.every(({ child }) => child.exitCode !== null || child.signalCode !== null),
        {
          timeoutMs: 15_000,
          message: 'the load processes to stop',
        },
      ).catch(() => {
        for (const { child } of children) child.kill('SIGKILL');
      });
    },
  };
  try {
    const outcome = await waitFor(
      () => children.find(({ child }) => child.exitCode !== null) ?? sum().connected === o.edges,
      { timeoutMs: 120_000, intervalMs: 250, message: `${o.edges} simulated edges to connect` },
    );
    if (outcome !== true) throw new Error(`a rollout load process exited with ${outcome.child.exitCode}`);
  } catch (error) {
    await edges[Symbol.asyncDispose]();
    throw error;
  }
  return edges;
}
