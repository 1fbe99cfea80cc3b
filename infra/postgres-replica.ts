/**
 * A streaming read replica of a PostgreSQL primary the suite runs (infra/postgres.ts): a base
 * backup (`pg_basebackup -X stream -R` with a physical replication slot, so the primary keeps the
 * WAL a stopped replica still needs), then `postgres` on it as a hot standby on a loopback port of
 * its own. It can be stopped and started again on the same port and data (tests of a replica
 * that is down). PostgreSQL 12+ standbys: `standby.signal` and `primary_conninfo` from `-R`.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { untilPostgresReady } from './postgres-ready.ts';
import { freezeTree, signalEach } from './process-tree.ts';
import { startServerProcess } from './server-process.ts';

/** The physical replication slot the replica streams from. */
const REPLICA_SLOT = 'devicehub_replica';

export interface ReplicaOptions {
  /** PostgreSQL's bin folder (pg_basebackup, postgres). */
  readonly bin: string;
  readonly primaryPort: number;
  /** The folder the replica's data goes in (`<dir>/replica`) and its socket. */
  readonly dir: string;
  /** Run as this user (root: the `postgres` user). */
  readonly user: { uid?: number; gid?: number };
  /** The login (trusted on loopback). */
  readonly login: string;
}

export interface ReplicaServer {
  readonly port: number;
  /** Stops it (fast shutdown); reads then fail until `start`. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it takes connections. */
  start(): Promise<void>;
  /**
   * Freezes it (SIGSTOP to the server and every backend under it): connections stay open and
   * queries get no answer, as on a stalled machine, until `resume`.
   */
  pause(): void;
  /** Lets a paused replica run again (SIGCONT). */
  resume(): void;
}

export async function startReplica(o: ReplicaOptions): Promise<ReplicaServer> {
  const data = join(o.dir, 'replica');
  const backup = spawnSync(
    join(o.bin, 'pg_basebackup'),
    [
      ...['-h', '127.0.0.1', '-p', String(o.primaryPort), '-U', o.login, '-D', data],
      // Stream the WAL during the copy, checkpoint at once, write the standby's settings, make the slot.
      ...['-X', 'stream', '-c', 'fast', '-R', '-C', '-S', REPLICA_SLOT, '--no-sync'],
      ...['-d', `application_name=${REPLICA_SLOT}`],
    ],
    { encoding: 'utf8', cwd: o.dir, ...o.user },
  );
  if (backup.status !== 0)
    throw new Error(`Cannot start the replica: pg_basebackup failed: ${backup.stderr || backup.stdout}`);
  const port = await freePort();
  let stderr = '';
  const spawnServer = (): ChildProcess => {
    const proc = spawn(
      join(o.bin, 'postgres'),
      [
        ...['-D', data, '-p', String(port), '-k', o.dir],
        ...['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
        // Its position reaches the primary every second; replay cancels a conflicting query after
        // 5 s instead of 30 (the lag a long read may cause); vacuum on the primary spares its rows.
        ...['-c', 'wal_receiver_status_interval=1s', '-c', 'max_standby_streaming_delay=5s'],
        ...['-c', 'hot_standby_feedback=on'],
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], cwd: o.dir, ...o.user },
    );
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    return proc;
  };
  const server = await startServerProcess({
    name: 'PostgreSQL replica',
    port,
    stopSignal: 'SIGINT',
    spawnServer,
    describeExit: (code) => `PostgreSQL replica exited with ${code}: ${stderr}`,
  });
  const ready = () => waitForStandby(`postgres://${o.login}@127.0.0.1:${port}/postgres`, server.exitSignal);
  await ready();
  let running = true;
  let paused: number[] = [];
  return {
    port,
    pause() {
      const pid = server.pid;
      if (!running || pid === undefined) throw new Error('Cannot pause the replica: it is not running');
      paused = freezeTree(pid);
    },
    resume() {
      signalEach(paused, 'SIGCONT');
      paused = [];
    },
    async stop() {
      signalEach(paused, 'SIGCONT');
      paused = [];
      running = false;
      await server.stop();
    },
    async start() {
      if (running) return;
      await server.restart();
      running = true;
      await ready();
    },
  };
}

/**
 * Until the standby takes connections (it answers "starting up" until consistent) and is in
 * recovery; fails at once when it exits (`exited`).
 */
function waitForStandby(url: string, exited: AbortSignal): Promise<void> {
  return untilPostgresReady(url, {
    ready: async (sql) => {
      const [row] = await sql<{ standby: boolean }[]>`select pg_is_in_recovery() as standby`;
      return row?.standby === true;
    },
    message: 'the PostgreSQL replica to take connections',
    exited,
  });
}
