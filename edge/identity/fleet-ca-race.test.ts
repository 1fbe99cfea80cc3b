/** The fleet CA's files: made once, by one process, even when several start on one folder at once. */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { raceProcesses } from '../../infra/test-race.ts';
import { CA_CERT_FILE, CA_KEY_FILE, loadFleetCa } from './fleet-ca.ts';

let base: string | undefined;
after(async () => {
  if (base !== undefined) await rm(base, { recursive: true, force: true });
});

describe('loadFleetCa with create, several processes at once', () => {
  it('one key and certificate per folder, every process loads that pair, no error and no draft left', async () => {
    // Before, the key was linked into place and the certificate after it: a process arriving in
    // between found a lone key and failed with CA_INCOMPLETE, and one that lost the key's link
    // failed with "another process is creating it".
    base = await mkdtemp(join(tmpdir(), 'dh-fleet-ca-race-'));
    const folders = 60;
    const fixture = fileURLToPath(new URL('./testdata/load-fleet-cas.ts', import.meta.url));
    const outputs = await raceProcesses<string>(fixture, { base, count: folders, processes: 4 });
    assert.deepEqual(
      outputs.flatMap((output) => output.failures),
      [],
    );
    for (let i = 0; i < folders; i++) {
      const dir = join(base, String(i));
      const certificatePem = await readFile(join(dir, CA_CERT_FILE), 'utf8');
      for (const output of outputs) assert.equal(output.results[i], certificatePem, `folder ${i}`);
      // The files hold a matching pair: loading without create checks the key against it.
      assert.equal((await loadFleetCa({ dir })).certificatePem, certificatePem);
      assert.equal((await stat(join(dir, CA_KEY_FILE))).mode & 0o777, 0o600);
      assert.deepEqual((await readdir(dir)).sort(), [CA_CERT_FILE, CA_KEY_FILE].sort(), 'no draft left');
    }
  });
});
