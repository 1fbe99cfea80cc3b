/**
 * Runs a real PostgreSQL on a free loopback port in a temporary folder (initdb, then
 * `postgres`), trusting local connections — for the gateway's persistence tests against the
 * real server beside embedded PGlite. PostgreSQL refuses to run as root: as root, it runs as the
 * `postgres` user the Debian package creates. On request also a streaming read replica
 * (infra/postgres-replica.ts) and PgBouncer in front of the primary (infra/pgbouncer.ts); the
 * folder is removed at stop.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { type PgBouncerServer, startPgBouncer } from './pgbouncer.ts';
import { untilPostgresReady } from './postgres-ready.ts';
import { type ReplicaServer, startReplica } from './postgres-replica.ts';
import { startServerProcess } from './server-process.ts';
import { waitFor } from './wait-for.ts';

export interface PostgresServer extends AsyncDisposable {
  /** `postgres://devicehub@127.0.0.1:<port>/postgres` */
  readonly url: string;
  /**
   * A fresh, empty database on this server; its URL (the primary's port). With a replica, it
   * resolves once the replica has it too.
   */
  createDatabase(name: string): Promise<string>;
  /** A database's URL on the primary, through PgBouncer and on the replica (those that run). */
  urlsOf(name: string): { url: string; bouncerUrl?: string; replicaUrl?: string };
  /** Until the replica has replayed everything the primary had written when called (none: at once). */
  waitForReplica(): Promise<void>;
  /** Stops the replica (fast shutdown): reads on it fail until `startReplica`. */
  stopReplica(): Promise<void>;
  /** Starts the stopped replica again on its port; it catches up from its replication slot. */
  startReplica(): Promise<void>;
  /** Freezes the replica (SIGSTOP, backends too): its connections stay open, unanswered. */
  pauseReplica(): void;
  /** Lets the paused replica run again. */
  resumeReplica(): void;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  /** Also a streaming read replica (pg_basebackup of the primary) on a port of its own. */
  readonly replica?: boolean;
  /** Also PgBouncer in front of the primary (transaction pooling, loopback trust). */
  readonly bouncer?: boolean;
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

/**
 * A PostgreSQL that opened its port (or found it taken) but took no connection before it exited
 * or 30 s passed: stopped, its folder removed.
 */
class NotTakingConnections extends Error {
  override readonly name = 'NotTakingConnections';
}

/**
 * Starts a PostgreSQL; one that opens its port but takes no connection within 30 s (seen once in
 * a CI run), or exits first (its port taken meanwhile), is stopped and started once more on a new
 * port; its stderr is in the error.
 */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  try {
    return await startPostgresOnce(options);
  } catch (error) {
    if (!(error instanceof NotTakingConnections)) throw error;
    return await startPostgresOnce(options);
  }
}

async function startPostgresOnce(options: PostgresOptions): Promise<PostgresServer> {
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
  try {
    await untilPostgresReady(`${base}/postgres`, {
      ready: async (sql) => {
        await sql`select 1`;
        return true;
      },
      message: 'PostgreSQL to take connections',
      exited: server.exitSignal,
    });
  } catch (error) {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
    // An exit's error already carries its stderr.
    const said = server.exitSignal.aborted ? '' : `; it said: ${stderr}`;
    throw new NotTakingConnections(`${(error as Error).message}${said}`, { cause: error });
  }
  const urlOn = (port: number, name: string) => `postgres://devicehub@127.0.0.1:${port}/${name}`;
  let replica: ReplicaServer | undefined;
  let bouncer: PgBouncerServer | undefined;
  const stop = async () => {
    await bouncer?.stop();
    await replica?.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (options.replica)
      replica = await startReplica({ bin, primaryPort: port, dir, user, login: 'devicehub' });
    if (options.bouncer) bouncer = await startPgBouncer({ port });
  } catch (error) {
    await stop();
    throw error;
  }
  const waitForReplica = async () => {
    if (replica === undefined) return;
    const primary = postgres(`${base}/postgres`, { max: 1, onnotice: () => {} });
    const standby = postgres(urlOn(replica.port, 'postgres'), { max: 1, onnotice: () => {} });
    try {
      const [row] = await primary<{ lsn: string }[]>`select pg_current_wal_insert_lsn()::text as lsn`;
      await waitFor(
        async () => {
          const [at] = await standby<{ caught: boolean }[]>`
            select pg_last_wal_replay_lsn() >= ${row!.lsn}::pg_lsn as caught`;
          return at?.caught === true;
        },
        { timeoutMs: 30_000, intervalMs: 20, message: 'the replica to replay the primary’s WAL' },
      );
    } finally {
      await primary.end();
      await standby.end();
    }
  };
  const urlsOf = (name: string) => ({
    url: `${base}/${name}`,
    ...(bouncer === undefined ? {} : { bouncerUrl: bouncer.url(name) }),
    ...(replica === undefined ? {} : { replicaUrl: urlOn(replica.port, name) }),
  });
  const noReplica = () => Promise.reject(new Error('This PostgreSQL was started without { replica: true }'));
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
      await waitForReplica();
      return `${base}/${name}`;
    },
    urlsOf,
    waitForReplica,
    stopReplica: () => replica?.stop() ?? noReplica(),
    startReplica: () => replica?.start() ?? noReplica(),
    pauseReplica: () => {
      if (replica === undefined) throw new Error('This PostgreSQL was started without { replica: true }');
      replica.pause();
    },
    resumeReplica: () => replica?.resume(),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
