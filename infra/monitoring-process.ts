/**
 * The monitoring servers' binaries (Debian's prometheus, prometheus-alertmanager and
 * prometheus-*-exporter packages, which infra/provision.sh installs; upstream names on the PATH
 * elsewhere) and how each is run: a child process on a loopback port, up once that port answers
 * (and its readiness URL, where it has one), what it wrote to stderr kept for the error when it
 * exits early, and appended to a log file when asked.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type ServerProcess, startServerProcess, withControls } from './server-process.ts';
import { waitFor } from './wait-for.ts';

/** Each server's names: Debian's first, then the upstream project's. */
const BINARIES = {
  prometheus: ['prometheus'],
  alertmanager: ['prometheus-alertmanager', 'alertmanager'],
  'node-exporter': ['prometheus-node-exporter', 'node_exporter'],
  'redis-exporter': ['prometheus-redis-exporter', 'redis_exporter'],
  'postgres-exporter': ['prometheus-postgres-exporter', 'postgres_exporter'],
} as const;

export type MonitoringServer = keyof typeof BINARIES;

/** The Debian packages that hold them (infra/provision.sh's need_apt). */
const PACKAGES: Record<MonitoringServer, string> = {
  prometheus: 'prometheus',
  alertmanager: 'prometheus-alertmanager',
  'node-exporter': 'prometheus-node-exporter',
  'redis-exporter': 'prometheus-redis-exporter',
  'postgres-exporter': 'prometheus-postgres-exporter',
};

/** The path of a monitoring server's binary; throws with what to install when it is missing. */
export function monitoringBinary(server: MonitoringServer): string {
  const dirs = [
    ...(process.env.PATH ?? '').split(':').filter(Boolean),
    '/usr/bin',
    '/usr/sbin',
    '/usr/local/bin',
  ];
  for (const name of BINARIES[server])
    for (const dir of dirs) {
      const path = join(dir, name);
      try {
        accessSync(path, constants.X_OK);
        return path;
      } catch {}
    }
  throw new Error(
    `Cannot find ${BINARIES[server].join(' or ')}: run \`sh infra/provision.sh\` (Debian: apt-get install ${PACKAGES[server]}).`,
  );
}

/**
 * Starts `server` with `args` and waits for `port` (and `readyUrl` answering 200, when given); the
 * last 4,000 characters it wrote to stderr go into the error when it exits or is not ready.
 */
export async function startMonitoringProcess(o: {
  server: MonitoringServer;
  args: readonly string[];
  port: number;
  env?: Record<string, string>;
  /** Polled until it answers 200 (Prometheus' /-/ready: it loads its TSDB after it listens). */
  readyUrl?: string;
  /** Also append its stderr (its log) to this file. */
  logFile?: string;
  timeoutMs?: number;
}): Promise<ServerProcess> {
  const binary = monitoringBinary(o.server);
  let tail = '';
  const log = o.logFile === undefined ? undefined : appendTo(o.logFile);
  const proc = await startServerProcess({
    name: o.server,
    port: o.port,
    timeoutMs: o.timeoutMs ?? 30_000,
    spawnServer: () => {
      const child = spawn(binary, o.args, {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, ...o.env },
      });
      child.stderr.on('data', (chunk: Buffer) => {
        tail = (tail + chunk.toString()).slice(-4000);
        log?.write(chunk);
      });
      return child;
    },
    describeExit: (code) => `${o.server} (${binary}) exited with ${code}: ${tail}`,
  });
  if (o.readyUrl !== undefined) {
    const url = o.readyUrl;
    await waitFor(async () => (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok, {
      timeoutMs: o.timeoutMs ?? 30_000,
      intervalMs: 50,
      message: `${o.server} ready at ${url}`,
      signal: proc.exitSignal,
    }).catch(async (error: unknown) => {
      await proc.kill();
      throw new Error(`${(error as Error).message}; it said: ${tail}`, { cause: error });
    });
  }
  return proc;
}

/**
 * `fields` with the process's controls (see `withControls`), its stop (also its async dispose)
 * then removing `removeDir`: the server's configuration and data folder.
 */
export function withFolder<T extends object>(
  proc: ServerProcess,
  fields: T,
  removeDir: string,
): NoInfer<T> & ServerProcess & AsyncDisposable {
  return withControls(
    {
      get pid() {
        return proc.pid;
      },
      get exitSignal() {
        return proc.exitSignal;
      },
      kill: proc.kill,
      restart: proc.restart,
      stop: async () => {
        await proc.stop();
        rmSync(removeDir, { recursive: true, force: true });
      },
    },
    fields,
  );
}

function appendTo(path: string) {
  mkdirSync(dirname(path), { recursive: true });
  return createWriteStream(path, { flags: 'a' });
}
