/**
 * Runs PgBouncer (Debian's package, `infra/provision.sh`) on a free loopback port in front of a
 * PostgreSQL server: transaction pooling, every database name passed through (`* =`), so
 * `postgres://user@127.0.0.1:<port>/<db>` reaches the same database as the server's own port.
 * Clients must not use named prepared statements (PgBouncer 1.18 has no `max_prepared_statements`):
 * postgres.js with `prepare: false`, which `openDatabase` does by default (docs/decisions/044).
 * PgBouncer refuses to run as root: as root it runs as the `postgres` user, like PostgreSQL.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { startServerProcess } from './server-process.ts';

export interface PgBouncerOptions {
  /** The server's host (default 127.0.0.1) and port. */
  readonly host?: string;
  readonly port: number;
  /**
   * How clients log in: `trust` (the suite's servers trust loopback), or a user and password that
   * PgBouncer checks with SCRAM and also uses towards the server (its auth_file).
   */
  readonly auth?: 'trust' | { readonly user: string; readonly password: string };
  /** The login PgBouncer's admin console (`SHOW POOLS`) lets in (default `devicehub`). */
  readonly adminUser?: string;
  /** Server connections per database and user (default 20: below PostgreSQL's 100 with room to spare). */
  readonly poolSize?: number;
  /** Where its configuration goes (default a new temporary folder, removed at stop). */
  readonly dir?: string;
}

export interface PgBouncerServer extends AsyncDisposable {
  readonly port: number;
  /** `postgres://<user>[:<password>]@127.0.0.1:<port>/<database>` */
  url(database: string): string;
  stop(): Promise<void>;
}

/** The pgbouncer binary: Debian installs it in /usr/sbin. */
function pgbouncerBinary(): string {
  for (const candidate of ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/opt/homebrew/bin/pgbouncer']) {
    if (existsSync(candidate)) return candidate;
  }
  const found = spawnSync('sh', ['-c', 'command -v pgbouncer'], { encoding: 'utf8' });
  if (found.status === 0 && found.stdout.trim()) return found.stdout.trim();
  throw new Error(
    'Cannot start PgBouncer: no pgbouncer binary. Run `sh infra/provision.sh` (apt-get install pgbouncer).',
  );
}

export async function startPgBouncer(o: PgBouncerOptions): Promise<PgBouncerServer> {
  const bin = pgbouncerBinary();
  const { host = '127.0.0.1', auth = 'trust', adminUser = 'devicehub', poolSize = 20 } = o;
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 1000)
    throw new RangeError(`Cannot start PgBouncer: poolSize must be 1..1000, got ${poolSize}`);
  const ownDir = o.dir === undefined;
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'devicehub-pgbouncer-'));
  const user: { uid?: number; gid?: number } = {};
  if (process.getuid?.() === 0) {
    user.uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    user.gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
  }
  const port = await freePort();
  const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
  // With trust, a user must still be listed; with SCRAM, the plain password lets PgBouncer log in to the server too.
  const users = auth === 'trust' ? [[adminUser, '']] : [[auth.user, auth.password]];
  if (auth !== 'trust' && auth.user !== adminUser) users.push([adminUser, '']);
  const userlist = join(dir, 'userlist.txt');
  writeFileSync(userlist, `${users.map(([u, p]) => `${quote(u!)} ${quote(p!)}`).join('\n')}\n`, {
    mode: 0o600,
  });
  const ini = join(dir, 'pgbouncer.ini');
  writeFileSync(
    ini,
    [
      '[databases]',
      `* = host=${host} port=${o.port}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      `auth_type = ${auth === 'trust' ? 'trust' : 'scram-sha-256'}`,
      `auth_file = ${userlist}`,
      `admin_users = ${adminUser}`,
      'pool_mode = transaction',
      'max_client_conn = 2000',
      `default_pool_size = ${poolSize}`,
      // postgres.js and others send these at start-up; PgBouncer would refuse the connection.
      'ignore_startup_parameters = extra_float_digits,options',
      // Not used in transaction pooling (the server's state ends with each transaction).
      'server_reset_query =',
      'log_connections = 0',
      'log_disconnections = 0',
      '',
    ].join('\n'),
  );
  if (user.uid !== undefined && user.gid !== undefined) {
    chownSync(dir, user.uid, user.gid);
    for (const file of [ini, userlist]) chownSync(file, user.uid, user.gid);
  }
  let stderr = '';
  const server = await startServerProcess({
    name: 'PgBouncer',
    port,
    stopSignal: 'SIGINT', // immediate shutdown; SIGTERM would wait for clients to leave
    spawnServer: () => {
      const proc = spawn(bin, [ini], { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir, ...user });
      proc.stderr?.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-2000);
      });
      return proc;
    },
    describeExit: (code) => `PgBouncer exited with ${code}: ${stderr}`,
  });
  const stop = async () => {
    await server.stop();
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  const login = auth === 'trust' ? adminUser : `${auth.user}:${encodeURIComponent(auth.password)}`;
  return {
    port,
    url: (database) => `postgres://${login}@127.0.0.1:${port}/${database}`,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
