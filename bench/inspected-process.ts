/**
 * A small program run with `--inspect` on a free loopback port, for the tests of the bench's
 * memory tools (survivors, gc-profile, heap-census): ready once the inspector listens, killed
 * when the test ends.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import { freePort } from '../infra/mod.ts';

/** Starts `program` (`node -e`) with the inspector on; resolves with its port once it listens. */
export async function spawnInspected(
  t: TestContext,
  program: string,
  nodeArgs: readonly string[] = [],
): Promise<number> {
  const port = await freePort();
  const child = spawn(process.execPath, [`--inspect=127.0.0.1:${port}`, ...nodeArgs, '-e', program], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  while (!stderr.includes('Debugger listening')) {
    await Promise.race([once(child.stderr, 'data'), once(child, 'exit').then(() => assert.fail(stderr))]);
  }
  return port;
}
