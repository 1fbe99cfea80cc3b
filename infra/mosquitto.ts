/**
 * Runs a real `mosquitto` on a free loopback port with DeviceHub's security model: no anonymous
 * clients, one password per edge, and an ACL that lets an edge publish only under
 * `dh/v1/<its id>/up/#` (and `…/legacy`) and read only `dh/v1/<its id>/down`; the hub's own user reads and writes
 * all of `dh/#`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { type ServerProcess, startServerProcess, withControls } from './server-process.ts';

export interface MosquittoOptions {
  /** Users and passwords: the hub's and each edge's (the user name of an edge is its id). */
  readonly users: Readonly<Record<string, string>>;
  /** User names with access to all of `dh/#` (default ['hub']). */
  readonly hubUsers?: readonly string[];
  readonly port?: number;
}

/** `restart` stops it with SIGTERM: mosquitto saves its sessions and queued messages first. */
export interface MosquittoServer extends ServerProcess, AsyncDisposable {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
}

function binary(name: string): string {
  for (const candidate of [name, `/usr/sbin/${name}`, `/usr/bin/${name}`]) {
    if (spawnSync(candidate, ['-h'], { encoding: 'utf8' }).error === undefined) return candidate;
  }
  throw new Error(
    `Cannot start mosquitto: "${name}" was not found. Run \`sh infra/provision.sh\` (apt-get install mosquitto as root).`,
  );
}

export async function startMosquitto(options: MosquittoOptions): Promise<MosquittoServer> {
  const mosquitto = binary('mosquitto');
  const passwd = binary('mosquitto_passwd');
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'devicehub-mosquitto-'));
  const hubUsers = options.hubUsers ?? ['hub'];
  writeFileSync(
    join(dir, 'passwd'),
    Object.entries(options.users)
      .map(([u, p]) => `${u}:${p}\n`)
      .join(''),
    { mode: 0o600 },
  );
  const hashed = spawnSync(passwd, ['-U', join(dir, 'passwd')], { encoding: 'utf8' });
  if (hashed.status !== 0) throw new Error(`mosquitto_passwd failed: ${hashed.stderr}`);
  writeFileSync(
    join(dir, 'acl'),
    [
      ...hubUsers.flatMap((u) => [`user ${u}`, 'topic readwrite dh/#', '']),
      '# every other user is an edge: its own uplink and downlink only',
      'pattern write dh/v1/%u/up/#',
      'pattern write dh/v1/%u/legacy',
      'pattern read dh/v1/%u/down',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${join(dir, 'passwd')}`,
      `acl_file ${join(dir, 'acl')}`,
      // Stay the user who started it (as root, mosquitto would switch to an account that cannot read these files).
      `user ${userInfo().username}`,
      // Sessions and queued QoS 1 messages survive a restart (saved on SIGTERM and every 10 s).
      'persistence true',
      `persistence_location ${dir}/`,
      'autosave_interval 10',
      'max_queued_messages 100000',
      `log_dest file ${join(dir, 'mosquitto.log')}`,
      '',
    ].join('\n'),
  );
  const proc = await startServerProcess({
    name: 'mosquitto',
    port,
    timeoutMs: 10_000,
    spawnServer: () => spawn(mosquitto, ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' }),
    describeExit: (code) => `mosquitto exited with ${code}; see ${dir}/mosquitto.log`,
  });
  const server: MosquittoServer = withControls(proc, {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    dir,
  });
  return server;
}
