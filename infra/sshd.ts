/**
 * An OpenSSH server on loopback standing in for an edge's sshd (tests, the demo): its own host
 * key, one client key the suite creates, the current user allowed in by that key only.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.ts';
import { type ServerProcess, startServerProcess, withControls } from './server-process.ts';

export interface SshdServer extends ServerProcess, AsyncDisposable {
  readonly port: number;
  readonly user: string;
  /** The private key that logs in. */
  readonly keyFile: string;
  /**
   * Runs `command` over ssh on `port` (this server's, or a tunnel's to it) — or through
   * `proxyCommand` to `host` (a multiplexed tunnel) — and resolves with its stdout.
   */
  exec(command: string, via?: number | { proxyCommand: string; host: string }): Promise<string>;
}

const SSHD = '/usr/sbin/sshd';

export async function startSshd(): Promise<SshdServer> {
  if (spawnSync(SSHD, ['-V']).error !== undefined)
    throw new Error(
      `Cannot start sshd: ${SSHD} not found. Run \`sh infra/provision.sh\` (apt-get install openssh-server).`,
    );
  const dir = mkdtempSync(join(tmpdir(), 'dh-sshd-'));
  const keygen = (file: string) => {
    const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
    if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
  };
  keygen(join(dir, 'host_key'));
  keygen(join(dir, 'client_key'));
  copyFileSync(join(dir, 'client_key.pub'), join(dir, 'authorized_keys'));
  chmodSync(join(dir, 'authorized_keys'), 0o600);
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true }); // privilege separation
  const port = await freePort();
  const user = userInfo().username;
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      `AllowUsers ${user}`,
      '',
    ].join('\n'),
  );
  const proc = await startServerProcess({
    name: 'sshd',
    port,
    timeoutMs: 10_000,
    spawnServer: () => spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: 'ignore' }),
    describeExit: (code) => `sshd exited with ${code}; config in ${dir}/sshd_config`,
  });
  const keyFile = join(dir, 'client_key');
  const fields: Omit<SshdServer, keyof ServerProcess | typeof Symbol.asyncDispose> = {
    port,
    user,
    keyFile,
    async exec(command, via = port) {
      const target =
        typeof via === 'number'
          ? ['-p', String(via), `${user}@127.0.0.1`]
          : ['-p', '22', '-o', `ProxyCommand=${via.proxyCommand}`, `${user}@${via.host}`];
      // ConnectTimeout covers the banner exchange, so a ProxyCommand's start-up too: `devicehub
      // connect` through tsx took 9 s on a loaded CI machine (the cluster pass, two files at once).
      const { stdout } = await promisify(execFile)('ssh', [
        ...['-i', keyFile, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no'],
        ...['-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=30'],
        ...target,
        command,
      ]);
      return stdout;
    },
  };
  return withControls(proc, fields);
}
