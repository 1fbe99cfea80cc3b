/**
 * A process of the peers bench (the producer, a BullMQ or Kafka worker; also the MQTT floor's
 * publishers) started under tsx and followed through the JSON lines it prints; and the report
 * every worker prints each second.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Histogram, type HistogramJSON } from '../../actors/mod.ts';
import { TS_NODE_ARGS } from '../../infra/ts-node-args.ts';

export interface PeerProcess {
  readonly child: ChildProcess;
  readonly pid: number | undefined;
  /** Every JSON line it printed so far. */
  readonly lines: Record<string, unknown>[];
  /** Resolves with the first line that has `key` (e.g. `ready`, `done`); rejects if it exits first. */
  line(key: string): Promise<Record<string, unknown>>;
  readonly exited: Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Runs `file` (a path beside this module) with `args` in its own process. */
export function spawnPeerProcess(file: string, args: readonly string[]): PeerProcess {
  const script = fileURLToPath(new URL(file, import.meta.url));
  const child = spawn(process.execPath, [...TS_NODE_ARGS, script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Record<string, unknown>[] = [];
  const waiting: { key: string; resolve: (line: Record<string, unknown>) => void }[] = [];
  let gone = false;
  // 'close', not 'exit': its output is read to the end first, the last line included.
  const exited = new Promise<void>((resolve) =>
    child.once('close', () => {
      gone = true;
      resolve();
    }),
  );
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return; // not ours (a library's print)
    }
    lines.push(line);
    for (const w of waiting.filter((w) => w.key in line)) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve(line);
    }
  });
  return {
    child,
    pid: child.pid,
    lines,
    line: (key) => {
      const found = lines.find((l) => key in l);
      if (found !== undefined) return Promise.resolve(found);
      return Promise.race([
        new Promise<Record<string, unknown>>((resolve) => waiting.push({ key, resolve })),
        exited.then(() => {
          const late = lines.find((l) => key in l);
          if (late !== undefined) return late;
          throw new Error(`${file} exited (code ${child.exitCode}) before it printed "${key}"`);
        }),
      ]);
    },
    exited,
    async kill(signal) {
      if (!gone) child.kill(signal);
      await exited;
    },
  };
}

/** What a worker prints each second: messages applied so far and their latency (cumulative). */
export interface WorkerLine {
  readonly t: number;
  readonly handled: number;
  readonly retries: number;
  readonly latencyMs: HistogramJSON;
}

/** A worker's counters, printed as a WorkerLine each second. */
export class WorkerReport {
  readonly latency = new Histogram();
  handled = 0;
  retries = 0;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor() {
    this.#timer = setInterval(() => this.print(), 1000);
  }

  /** One message applied, `ms` after its producer sent it. */
  applied(ms: number): void {
    this.handled++;
    this.latency.record(ms);
  }

  print(): void {
    const line: WorkerLine = {
      t: Date.now(),
      handled: this.handled,
      retries: this.retries,
      latencyMs: this.latency.toJSON(),
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.print();
  }
}
