/**
 * A log buffer folder a process can call its own: `<base>/<name>-<n>` for the first n (1, 2, …)
 * whose `owner` file names no live process. A restarted process takes a free slot again — its
 * own old one when it is alone — and replays what was left there, so no buffered line waits for
 * a process id that will never come back. Runs once at start-up, synchronously (before the first
 * log line), a few small files; the shipper's own I/O is async.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Folders this process took (in a container every process may be pid 1: a live pid is not enough). */
const claimed = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Claims a slot under `base` for `name` (e.g. the service) and returns its folder. */
export function claimBufferDir(base: string, name: string, maxSlots = 64): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name))
    throw new RangeError(
      `Cannot claim a log buffer folder: name must be 1-64 of [A-Za-z0-9_.-], got ${name}`,
    );
  for (let n = 1; n <= maxSlots; n++) {
    const dir = resolve(base, `${name}-${n}`);
    if (claimed.has(dir)) continue;
    mkdirSync(dir, { recursive: true });
    const owner = join(dir, 'owner');
    let holder = Number.NaN;
    try {
      holder = Number.parseInt(readFileSync(owner, 'utf8'), 10);
    } catch {
      // no owner: free
    }
    if (Number.isInteger(holder) && holder !== process.pid && alive(holder)) continue;
    rmSync(owner, { force: true });
    try {
      writeFileSync(owner, String(process.pid), { flag: 'wx' });
    } catch {
      continue; // another process took it just now
    }
    claimed.add(dir);
    return dir;
  }
  throw new RangeError(`Cannot claim a log buffer folder: ${maxSlots} live ${name} processes under ${base}`);
}

/** Gives a claimed folder back (its files stay for the next process). */
export function releaseBufferDir(dir: string): void {
  if (!claimed.delete(dir)) return;
  rmSync(join(dir, 'owner'), { force: true });
}
