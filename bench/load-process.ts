/**
 * Starts a load process and follows its progress: the load generator (load-generator.ts, edges'
 * messages into their mailboxes) or the tile feeder (tile-feeder.ts, edges' tile changes into the
 * outbox, for the screens benchmark).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Keyspace } from '../bus/mod.ts';
import { TS_NODE_ARGS } from '../infra/ts-node-args.ts';

const LOAD_GENERATOR = fileURLToPath(new URL('./load-generator.ts', import.meta.url));
const TILE_FEEDER = fileURLToPath(new URL('./tile-feeder.ts', import.meta.url));

export interface LoadGenerator {
  readonly child: ChildProcess;
  /** Messages sent so far (updated each second, and at the end). */
  sent: number;
  readonly done: Promise<{ sent: number; lastSeq: number[] }>;
  stop(): void;
}

export interface LoadOptions {
  readonly redisUrl: string;
  readonly keyspace: Keyspace;
  readonly edges: number;
  readonly seconds: number;
  /** Alarm starts per edge per second (each ends 10 s later); default 0. */
  readonly alarmRate?: number;
}

export function spawnLoadGenerator(o: LoadOptions): LoadGenerator {
  return spawnLoad(LOAD_GENERATOR, o, ['--alarm-rate', String(o.alarmRate ?? 0)]);
}

/** The tile feeder: `sent` counts tile events; `lastSeq` is empty. */
export function spawnTileFeeder(o: Omit<LoadOptions, 'alarmRate'>): LoadGenerator {
  return spawnLoad(TILE_FEEDER, o, []);
}

function spawnLoad(
  script: string,
  o: Omit<LoadOptions, 'alarmRate'>,
  extra: readonly string[],
): LoadGenerator {
  const args = [
    ...TS_NODE_ARGS,
    script,
    ...['--redis', o.redisUrl, '--prefix', o.keyspace.prefix, '--shards', String(o.keyspace.shards)],
    ...[
      '--tag-groups',
      String(o.keyspace.tagGroups),
      '--edges',
      String(o.edges),
      '--seconds',
      String(o.seconds),
    ],
    ...extra,
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const load: LoadGenerator = {
    child,
    sent: 0,
    done: new Promise((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const msg = JSON.parse(line) as { sent: number; done?: boolean; lastSeq?: number[] };
        load.sent = msg.sent;
        if (msg.done) resolve({ sent: msg.sent, lastSeq: msg.lastSeq ?? [] });
      });
      child.once('exit', (code, signal) => {
        if (code !== 0 && signal === null) reject(new Error(`${script} exited with ${code}`));
      });
    }),
    stop: () => child.kill('SIGTERM'),
  };
  load.done.catch(() => {});
  return load;
}
