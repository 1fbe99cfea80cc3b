/**
 * Installing one package into a slot that does not run. The package format (single file, no tar:
 * docs/decisions/025-agent-install.md):
 *
 * - `<fileName>.run`: an installer. Run as `sh <file> <slotDir>/<name>` with DH_SLOT_DIR (the slot),
 *   DH_PACKAGE_NAME and DH_PACKAGE_VERSION; it carries its own payload (a shell archive) and writes
 *   only into the slot. Exit 0: installed.
 * - anything else: the file itself, copied to `<slotDir>/<name>/<fileName>` (mode 0755).
 *
 * Either way the slot's `versions.json` names the new version. A full disk (ENOSPC from our write,
 * or the installer's "No space left on device") is DISK_FULL; any other failure INSTALL_FAILED.
 */
import { spawn } from 'node:child_process';
import { chmod, copyFile, mkdir, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { UpdateTarget } from '../../protocol/mod.ts';
import { isDiskFull, UpdateError } from './errors.ts';

/** Longest an installer may run. */
const INSTALLER_MS = 10 * 60_000;

/** Free bytes on the disk holding `dir` (for unprivileged writers). */
export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

/** Throws DISK_FULL unless `dir`'s disk has `bytes` free (checked before downloading and installing). */
export async function ensureFree(dir: string, bytes: number, what: string): Promise<void> {
  const free = await freeBytes(dir);
  if (free < bytes)
    throw new UpdateError('DISK_FULL', `${what} needs ${bytes} bytes, the disk has ${free} free`);
}

/** Installs `file` (the verified package of `target`) into `slotDir`. */
export async function installPackage(
  target: UpdateTarget,
  file: string,
  o: { slotDir: string; signal?: AbortSignal },
): Promise<void> {
  const dir = join(o.slotDir, target.name);
  const fileName = target.path.split('/').at(-1)!;
  try {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    if (fileName.endsWith('.run')) await runInstaller(target, file, { ...o, dir });
    else {
      await copyFile(file, join(dir, fileName));
      await chmod(join(dir, fileName), 0o755);
    }
  } catch (error) {
    if (error instanceof UpdateError) throw error;
    if (isDiskFull(error))
      throw new UpdateError('DISK_FULL', `no space left installing ${target.path}`, { cause: error });
    throw new UpdateError('INSTALL_FAILED', `installing ${target.path}: ${String(error)}`, { cause: error });
  }
}

async function runInstaller(
  target: UpdateTarget,
  file: string,
  o: { slotDir: string; dir: string; signal?: AbortSignal },
): Promise<void> {
  const child = spawn('sh', [file, o.dir], {
    cwd: o.dir,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      DH_SLOT_DIR: o.slotDir,
      DH_PACKAGE_NAME: target.name,
      DH_PACKAGE_VERSION: target.version,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
    signal: AbortSignal.any([AbortSignal.timeout(INSTALLER_MS), ...(o.signal ? [o.signal] : [])]),
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve) => {
    child.on('error', () => resolve(null));
    child.on('close', (c) => resolve(c));
  });
  if (code === 0) return;
  const said = stderr.trim().split('\n').at(-1)?.slice(0, 200) ?? '';
  if (/no space left on device|disk quota exceeded/i.test(stderr))
    throw new UpdateError('DISK_FULL', `the installer of ${target.path} ran out of disk: ${said}`);
  throw new UpdateError(
    'INSTALL_FAILED',
    `the installer of ${target.path} exited with ${code ?? 'an error'}${said ? `: ${said}` : ''}`,
  );
}
