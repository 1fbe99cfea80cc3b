/** The sealing key file: made once, read by every process, never seen half-written. */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { raceProcesses } from '../../infra/test-race.ts';
import { CredentialsError } from './errors.ts';
import { loadSealingKey, SEALING_KEY_FILE } from './sealing.ts';

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dh-sealing-'));
  dirs.push(dir);
  return dir;
}

describe('loadSealingKey', () => {
  it('processes starting at once: one key per folder, every process uses it, none reads a half-written file', async () => {
    // The two gateways of `devicehub cluster` start together; one of them read the file the
    // other had created but not yet filled and exited with "must be 32 bytes".
    const base = await freshDir();
    const folders = 300;
    const fixture = fileURLToPath(new URL('./testdata/load-sealing-keys.ts', import.meta.url));
    const outputs = await raceProcesses<string>(fixture, { base, count: folders, processes: 4 });
    assert.deepEqual(
      outputs.flatMap((output) => output.failures),
      [],
    );
    for (let i = 0; i < folders; i++) {
      const dir = join(base, String(i));
      const key = await loadSealingKey({ dir });
      for (const output of outputs) assert.equal(key.unseal(output.results[i] as string, String(i)), 'probe');
      assert.equal((await stat(join(dir, SEALING_KEY_FILE))).mode & 0o777, 0o600);
      assert.deepEqual(
        (await readdir(dir)).sort(),
        [SEALING_KEY_FILE],
        'no temporary file is left beside the key',
      );
    }
  });

  it('a key written earlier is read back; a missing one without create is KEY_MISSING; a short one is refused', async () => {
    const dir = await freshDir();
    const first = await loadSealingKey({ dir, create: true });
    const again = await loadSealingKey({ dir });
    assert.equal(again.unseal(first.seal('x', 'e'), 'e'), 'x');
    await assert.rejects(loadSealingKey({ dir: await freshDir() }), (error: unknown) => {
      return error instanceof CredentialsError && error.code === 'KEY_MISSING';
    });
    const bad = await freshDir();
    await writeFile(join(bad, SEALING_KEY_FILE), `${Buffer.alloc(16).toString('base64')}\n`);
    await assert.rejects(loadSealingKey({ dir: bad, create: true }), /must be 32 bytes/);
  });
});
