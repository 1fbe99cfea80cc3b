/**
 * killTree: a process that keeps starting children is killed with every one of them. A list taken
 * while it runs misses the child it starts a moment later (a `devicehub cluster` SIGKILLed while
 * starting once left its VictoriaLogs running); stopped first, it starts none.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { descendants, killTree } from './process-tree.ts';
import { waitFor } from './wait-for.ts';

/** Processes anywhere whose environment holds `marker` (reparented orphans too). */
function withMarker(marker: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'utf8').includes(marker)) found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describe('killTree', () => {
  it('kills a process that keeps starting children, and every child it started', async () => {
    const marker = `dh-tree-${randomBytes(6).toString('hex')}`;
    // A parent starting a `sleep` every 2 ms, without end; all of them carry the marker in
    // their environment.
    const parent = spawn(
      process.execPath,
      [
        '-e',
        `const { spawn } = require('node:child_process');
         setInterval(() => spawn('sleep', ['60'], { stdio: 'ignore' }), 2);`,
      ],
      { stdio: 'ignore', env: { ...process.env, DH_TREE_MARKER: marker } },
    );
    const exited = new Promise((resolve) => parent.once('exit', resolve));
    try {
      await waitFor(() => descendants(parent.pid!).length >= 20, { message: 'children started' });
      killTree(parent.pid!);
      await exited;
      await waitFor(() => withMarker(marker).length === 0, {
        timeoutMs: 5_000,
        message: 'every child gone',
        explain: () => `left: ${withMarker(marker).join(', ')}`,
      });
    } finally {
      parent.kill('SIGKILL');
      for (const pid of withMarker(marker)) process.kill(pid, 'SIGKILL');
    }
  });
});
