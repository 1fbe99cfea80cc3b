/**
 * Runs a real `redis-server` on a free loopback port, for tests, the demo and benchmarks.
 * Data lives in `dir` (a fresh temporary folder by default). With `appendonly` and the default
 * fsync, a restart keeps everything that was acknowledged (appendfsync always).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.ts';
import { childGroupOptions } from './process-tree.ts';
import { exitSignalOf } from './server-process.ts';
import { waitFor } from './wait-for.ts';

export interface RedisServerOptions {
  readonly port?: number;
  readonly dir?: string;
  /** Keep an append-only file (default true). */
  readonly appendonly?: boolean;
  /** When the append-only file is fsynced: before every reply (default) or once a second. */
  readonly fsync?: 'always' | 'everysec';
  readonly binary?: string;
  /** More `redis-server` arguments, e.g. `['--cluster-enabled', 'yes']`. */
  readonly extraArgs?: readonly string[];
}

export interface RedisServer extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly pid: number | undefined;
  /** SIGKILL: the server dies without saving anything it has not already written. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and data folder. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export function redisServerBinary(binary = process.env.REDIS_SERVER ?? 'redis-server'): string {
  const probe = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `Cannot start Redis: "${binary}" was not found or does not run. Run \`sh infra/provision.sh\` ` +
        '(installs redis-server with apt-get as root) or set REDIS_SERVER to its path.',
    );
  }
  return binary;
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = redisServerBinary(options.binary);
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'devicehub-redis-'));
  mkdirSync(dir, { recursive: true });
  const appendonly = options.appendonly ?? true;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const launch = async () => {
    const proc = spawn(binary, redisArgs({ ...options, port, dir, appendonly }), {
      stdio: 'ignore',
      ...childGroupOptions(),
    });
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    await untilReady(proc, port, dir);
  };

  await launch();
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return child?.pid;
    },
    async kill() {
      child?.kill('SIGKILL');
      await exited;
    },
    async restart() {
      await launch();
    },
    async stop() {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
    [Symbol.asyncDispose]() {
      return server.stop();
    },
  };
  return server;
}

/**
 * Bytes of a stream's listpack node (Redis's default is 4096). A trim frees only whole nodes: it
 * marks the entries of a node it cuts into deleted and keeps the node, so with 4 KB nodes every
 * mailbox held ~4 KB of trimmed entries besides its live ones. With 1 KB nodes (about one mailbox
 * entry each) a trim frees what it trims: −210 B per edge at 10,000 edges (decision 059).
 */
export const STREAM_NODE_MAX_BYTES = 1024;

/** The server's command line: `options` with its port, folder and persistence settled. */
function redisArgs(
  options: RedisServerOptions & { readonly port: number; readonly dir: string; readonly appendonly: boolean },
): string[] {
  const { port, dir, appendonly } = options;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--daemonize',
    'no',
  ];
  args.push(
    '--appendonly',
    appendonly ? 'yes' : 'no',
    '--appendfsync',
    options.fsync ?? 'always',
    '--protected-mode',
    'no',
    '--stream-node-max-bytes',
    String(STREAM_NODE_MAX_BYTES),
  );
  args.push('--logfile', join(dir, 'redis.log'), ...(options.extraArgs ?? []));
  return args;
}

/** Waits until the server answers PING (10 s at most); throws if it exits first. */
async function untilReady(proc: ChildProcess, port: number, dir: string): Promise<void> {
  const probe = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => {}); // refused until the server listens
  // An exit fails the wait at once (it polled on to its deadline, the error only its cause).
  const exited = exitSignalOf(proc, (code) => `redis-server exited with ${code}; see ${dir}/redis.log`);
  try {
    await waitFor(
      async () => {
        if (probe.status !== 'ready') await probe.connect().catch(() => {});
        return probe.status === 'ready' && (await probe.ping()) === 'PONG';
      },
      { timeoutMs: 10_000, intervalMs: 25, message: `redis-server on port ${port}`, signal: exited },
    );
  } finally {
    probe.disconnect();
  }
}
