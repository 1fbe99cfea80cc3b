/**
 * A block of loopback ports held by this process alone, for servers that need a fixed range
 * rather than one free port (frps's `allowPorts` and the gateway's tunnel pool): two test files
 * run at once (`--test-concurrency=2`), or two checkouts on one machine, each get their own.
 *
 * A block is held by a lock file `<tmpdir>/devicehub-port-blocks/<low>.lock` created with O_EXCL
 * and holding the pid; it is removed when the process exits. A lock whose pid is dead (a test
 * process killed with SIGKILL) is reclaimed. The ports are below Linux's ephemeral range
 * (32768-60999), where any client connection's local port may be taken at the moment a server
 * wants to bind it, and above the CLI's default tunnel range (20000-20999, the demo's).
 */
import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PortBlock {
  /** The block's first and last port (inclusive): `size` ports. */
  readonly low: number;
  readonly high: number;
  /** Gives the block back (also done when the process exits). */
  release(): void;
}

export interface PortBlockOptions {
  /** Ports in the block (default 100); blocks are aligned to this size within the range, so every
   *  caller sharing a lock folder must use the same size (a caller needing fewer uses part of one). */
  readonly size?: number;
  /** Where blocks are taken from (default 25000..29999). */
  readonly range?: { readonly low: number; readonly high: number };
  /** The lock folder (default `<tmpdir>/devicehub-port-blocks`). */
  readonly dir?: string;
}

export class PortBlockError extends Error {
  override readonly name = 'PortBlockError';
  readonly code = 'PORT_BLOCKS_EXHAUSTED';
}

/** Claims a free block of ports: locked for this process, and every port bindable on 127.0.0.1 now. */
export async function claimPortBlock(options: PortBlockOptions = {}): Promise<PortBlock> {
  const size = options.size ?? 100;
  const range = options.range ?? { low: 25_000, high: 29_999 };
  const dir = options.dir ?? join(tmpdir(), 'devicehub-port-blocks');
  mkdirSync(dir, { recursive: true });
  const count = Math.floor((range.high - range.low + 1) / size);
  // Start at a block chosen by pid: two processes starting at once rarely try the same lock first.
  const first = process.pid % count;
  for (let i = 0; i < count; i++) {
    const low = range.low + ((first + i) % count) * size;
    const lock = join(dir, `${low}.lock`);
    if (!takeLock(lock)) continue;
    const release = () => {
      process.off('exit', release);
      try {
        if (readFileSync(lock, 'utf8') === String(process.pid)) unlinkSync(lock);
      } catch {
        // already gone
      }
    };
    process.on('exit', release);
    if (await allBindable(low, low + size - 1)) return { low, high: low + size - 1, release };
    release(); // something else on this machine uses a port in it: try the next block
  }
  throw new PortBlockError(
    `No free block of ${size} ports in ${range.low}..${range.high}: every one is locked under ${dir} or has a port in use`,
  );
}

/** Creates `lock` with this pid (O_EXCL); reclaims it first if its pid is dead. */
function takeLock(lock: string): boolean {
  if (create(lock)) return true;
  const owner = Number(read(lock));
  if (!Number.isInteger(owner) || owner <= 0 || alive(owner)) return false;
  // Reclaim: move the stale lock aside atomically (only one reclaimer gets it), then check that
  // what was moved is still the dead pid's; if a live process had just taken the block, put it back.
  const aside = `${lock}.${process.pid}.stale`;
  try {
    renameSync(lock, aside);
  } catch {
    return false;
  }
  if (read(aside) !== String(owner)) {
    try {
      linkSync(aside, lock); // fails if someone created the lock meanwhile: theirs stands
    } catch {}
    unlinkSync(aside);
    return false;
  }
  unlinkSync(aside);
  return create(lock);
}

function create(lock: string): boolean {
  try {
    const fd = openSync(lock, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function allBindable(low: number, high: number): Promise<boolean> {
  const tries: Promise<boolean>[] = [];
  for (let port = low; port <= high; port++) {
    tries.push(
      new Promise((resolve) => {
        const server = createServer();
        server.once('error', () => resolve(false));
        server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
      }),
    );
  }
  return Promise.all(tries).then((free) => free.every(Boolean));
}
