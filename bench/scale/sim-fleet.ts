/**
 * The scale benchmark's simulator processes (sim-worker.ts), one per broker shard: started,
 * followed (their per-second reports summed), told to hold QoS 0 back, and stopped with their
 * totals gathered into per-edge counts by edge index.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { nodeFlagsOf, TS_NODE_ARGS, waitFor } from '../../infra/mod.ts';
import type { SimWorkerArgs, SimWorkerReport } from './sim-worker.ts';

const WORKER = fileURLToPath(new URL('./sim-worker.ts', import.meta.url));

export interface SimFleetTotals {
  /** Acknowledged messages per edge, by edge index. */
  readonly sentPerEdge: number[];
  /** Every reconnect's downtime (ms), all processes. */
  readonly reconnectMs: number[];
  readonly malformedSent: number;
  readonly publishErrors: number;
}

export interface SimFleet extends AsyncDisposable {
  readonly pids: (number | undefined)[];
  /** The latest reports summed (connected, sent, in flight, …). */
  now(): Omit<SimWorkerReport, 'shard'>;
  quiet(on: boolean): void;
  /** 1 % of the edges raise an alarm (QoS 1) within 10 s: an area power cut. */
  alarmStorm(): void;
  stop(): Promise<SimFleetTotals>;
}

/** One worker per shard, `urls[i]` its broker's listeners. */
export function startSimFleet(o: {
  edges: number;
  urls: readonly (readonly string[])[];
  caFile?: string;
  connectRate: number;
  malformedShare: number;
}): SimFleet {
  // DH_SIM_ARGS passes extra Node flags to the simulator processes (e.g. --cpu-prof), as
  // DH_NODE_ARGS does to the hub nodes.
  const simArgs = nodeFlagsOf('DH_SIM_ARGS');
  const latest: SimWorkerReport[] = [];
  const finals: SimWorkerReport[] = [];
  const children: ChildProcess[] = o.urls.map((urls, shard) => {
    const args: SimWorkerArgs = {
      edges: o.edges,
      shard,
      shards: o.urls.length,
      urls,
      ...(o.caFile === undefined ? {} : { caFile: o.caFile }),
      connectRate: Math.max(1, Math.round(o.connectRate / o.urls.length)),
      malformedShare: o.malformedShare,
    };
    const child = spawn(process.execPath, [...simArgs, ...TS_NODE_ARGS, WORKER, JSON.stringify(args)], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    createInterface({ input: child.stdout! }).on('line', (text) => {
      const line = JSON.parse(text) as SimWorkerReport;
      latest[shard] = line;
      if (line.done) finals[shard] = line;
    });
    return child;
  });
  const sum = (key: keyof Omit<SimWorkerReport, 'shard' | 'done' | 'sentPerEdge' | 'reconnectMs'>) =>
    latest.reduce((n, r) => n + (r?.[key] ?? 0), 0);
  const send = (message: object) => {
    for (const c of children) if (c.connected) c.send(message);
  };
  return {
    pids: children.map((c) => c.pid),
    now: () => ({
      connected: sum('connected'),
      sent: sum('sent'),
      inFlight: sum('inFlight'),
      behindMs: Math.max(0, ...latest.map((r) => r?.behindMs ?? 0)),
      publishErrors: sum('publishErrors'),
      malformedSent: sum('malformedSent'),
      quietSkipped: sum('quietSkipped'),
      reconnects: sum('reconnects'),
      unheard: sum('unheard'),
    }),
    quiet: (on) => send({ quiet: on }),
    alarmStorm: () => send({ alarmStorm: true }),
    async stop() {
      send({ stop: true });
      await waitFor(() => children.every((_, i) => finals[i] !== undefined), {
        timeoutMs: 60_000,
        message: 'every simulator process to report its totals',
      });
      const sentPerEdge = new Array<number>(o.edges).fill(0);
      for (const f of finals) for (const [i, n] of f.sentPerEdge ?? []) sentPerEdge[i] = n;
      return {
        sentPerEdge,
        reconnectMs: finals.flatMap((f) => f.reconnectMs ?? []),
        malformedSent: finals.reduce((n, f) => n + f.malformedSent, 0),
        publishErrors: finals.reduce((n, f) => n + f.publishErrors, 0),
      };
    },
    async [Symbol.asyncDispose]() {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    },
  };
}
