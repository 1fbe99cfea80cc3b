/**
 * Runs a real PostgreSQL on a free loopback port in a temporary folder (initdb, then
 * `postgres`), trusting local connections — for the gateway's persistence tests against the
 * real server beside embedded PGlite. PostgreSQL refuses to run as root: as root, it runs as the
 * `postgres` user the Debian package creates.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { startServerProcess } from './server-process.ts';
import { waitFor } from './wait-for.ts';

export interface PostgresServer extends AsyncDisposable {
  /** `postgres://devicehub@127.0.0.1:<port>/postgres` */
  readonly url: string;
  /** A fresh, empty database on this server; its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(root, versions[0], 'bin');
  }
  const found = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (found.status === 0 && existsSync(join(found.stdout.trim(), 'postgres'))) return found.stdout.trim();
  throw new Error(
    'Cannot start PostgreSQL: no postgres binary found. Run `sh infra/provision.sh` (apt-get install postgresql as root).',
  );
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = binDir();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'devicehub-pg-'));
  // As root: the processes run as the `postgres` user, who owns the folder.
  const user: { uid?: number; gid?: number } = {};
  if (process.getuid?.() === 0) {
    user.uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    user.gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, user.uid, user.gid);
  }
  const data = join(dir, 'data');
  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'devicehub', '--auth=trust', '-E', 'UTF8', '--no-sync'],
    { encoding: 'utf8', cwd: dir, ...user },
  );
  if (init.status !== 0)
    throw new Error(`Cannot start PostgreSQL: initdb failed: ${init.stderr || init.stdout}`);
  let stderr = '';
  const server = await startServerProcess({
    name: 'PostgreSQL',
    port,
    stopSignal: 'SIGINT', // fast shutdown: SIGTERM would wait for every client to leave
    spawnServer: () => {
      const proc = spawn(
        join(bin, 'postgres'),
        [
          ...['-D', data, '-p', String(port), '-k', dir],
          ...['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off'],
        ],
        { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir, ...user },
      );
      proc.stderr?.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-2000);
      });
      return proc;
    },
    describeExit: (code) => `PostgreSQL exited with ${code}: ${stderr}`,
  });
  const base = `postgres://devicehub@127.0.0.1:${port}`;
  const { default: postgres } = await import('postgres');
  // The port answers a moment before connections are taken ("the database system is starting up").
  await waitFor(
    async () => {
      const sql = postgres(`${base}/postgres`, { max: 1, connect_timeout: 2, onnotice: () => {} });
      try {
        await sql`select 1`;
        return true;
      } catch {
        return false;
      } finally {
        await sql.end();
      }
    },
    { timeoutMs: 30_000, intervalMs: 50, message: 'PostgreSQL to take connections' },
  );
  const stop = server.stop;
  return {
    url: `${base}/postgres`,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new RangeError(`Invalid database name ${name}`);
      const sql = postgres(`${base}/postgres`, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`create database ${name}`);
      } finally {
        await sql.end();
      }
      return `${base}/${name}`;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
