/**
 * The updater in process, against a real HTTP origin and real slot directories: install and the
 * health gate (healthy, timeout → switched back), a failing installer, an install interrupted by a
 * restart, a full disk found before the download, the command's checks, and the supervisor's boot
 * script going back from a self-update that never confirmed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { waitFor } from '../../../infra/mod.ts';
import type { UpdateReport, UpdateTarget } from '../../protocol/mod.ts';
import { silentLogger } from '../logger.ts';
import { downloadArtifact } from './download.ts';
import { UpdateError } from './errors.ts';
import type { HealthSignals } from './health-gate.ts';
import { Journal } from './journal.ts';
import { startArtifactServer } from './testdata/artifact-server.ts';
import { parseUpdateArgs } from './update-command.ts';
import { Updater } from './updater.ts';

const BOOT_SCRIPT = new URL('../../../deploy/agent/devicehub-agent-boot.sh', import.meta.url).pathname;

function rig(mirror: string, dataDir = mkdtempSync(join(tmpdir(), 'updater-'))) {
  const reports: UpdateReport[] = [];
  const health: { connected: boolean; lastInput: { elenet: number; litefcccore: number } } = {
    connected: true,
    lastInput: { elenet: 0, litefcccore: 0 },
  };
  const stop = new AbortController();
  const updater = new Updater({
    dataDir,
    report: (r) => reports.push(r),
    download: downloadArtifact,
    mirrors: () => [mirror],
    health: (): HealthSignals => health,
    log: silentLogger,
    signal: stop.signal,
    gatePollMs: 20,
  });
  const states = (name: string) => reports.filter((r) => r.name === name).map((r) => r.state);
  const current = () => readlinkSync(join(dataDir, 'slots', 'current'));
  return { dataDir, reports, health, updater, stop, states, current };
}

const args = (targets: UpdateTarget[], healthDeadlineMs = 5_000) => ({
  rollout: 'r-1',
  targets,
  spreadMs: 0,
  healthDeadlineMs,
});

describe('updater', { timeout: 30_000 }, () => {
  it('installs into the other slot, switches, and reports healthy once elenet feeds again', async () => {
    await using origin = await startArtifactServer();
    const r = rig(origin.url);
    const elenet = origin.add('edge-package', 'elenet', '2.1.0', 'elenet.bin', Buffer.from('elenet 2.1.0'));
    assert.deepEqual(await r.updater.accept(args([elenet])), { accepted: true, rollout: 'r-1' });
    await waitFor(() => r.current() === 'b', { message: 'the switch to slot b' });
    assert.deepEqual(r.states('elenet').slice(-1), ['installing'], 'the gate waits for elenet');
    r.health.lastInput.elenet = Date.now() + 1;
    await r.updater.running;
    assert.deepEqual(r.states('elenet'), ['downloading', 'downloaded', 'verified', 'installing', 'healthy']);
    assert.equal(readFileSync(join(r.dataDir, 'slots/b/elenet/elenet.bin'), 'utf8'), 'elenet 2.1.0');
    assert.deepEqual(await r.updater.slots.versions('b'), { elenet: '2.1.0' });
    assert.deepEqual(await r.updater.slots.versions('a'), {}, 'the old slot is untouched');
    assert.equal((await new Journal(r.dataDir).read())?.outcome?.state, 'healthy');
    await r.updater.accept(args([elenet]));
    assert.deepEqual(r.states('elenet').at(-1), 'healthy', 'the same rollout again: its outcome, no new job');
    assert.equal(r.updater.running, undefined);
  });

  it('switches back by itself when the new version is not healthy by the deadline', async () => {
    await using origin = await startArtifactServer();
    const r = rig(origin.url);
    const lite = origin.add('edge-package', 'litefcccore', '9.0.0', 'litefcccore', Buffer.from('v9'));
    await r.updater.accept(args([lite], 300));
    await r.updater.running;
    assert.deepEqual(r.states('litefcccore').slice(-2), ['installing', 'rolled_back']);
    assert.match(r.reports.at(-1)?.reason ?? '', /^HEALTH_TIMEOUT: .*litefcccore/);
    assert.equal(r.current(), 'a', 'back on the slot that ran');
  });

  it('fails a package whose installer fails, and keeps the running slot', async () => {
    await using origin = await startArtifactServer();
    const r = rig(origin.url);
    const bad = origin.add(
      'model',
      'plates',
      '3',
      'plates.run',
      Buffer.from('echo "model too new" >&2; exit 3\n'),
    );
    await r.updater.accept(args([bad]));
    await r.updater.running;
    assert.deepEqual(r.states('plates').at(-1), 'failed');
    assert.match(r.reports.at(-1)?.reason ?? '', /^INSTALL_FAILED: .*exited with 3: model too new/);
    assert.equal(r.current(), 'a');
    assert.deepEqual(await r.updater.slots.versions('b'), {}, 'the half-made slot is emptied');
  });

  it('rolls back an install a restart interrupted', async () => {
    await using origin = await startArtifactServer();
    const first = rig(origin.url);
    const elenet = origin.add('edge-package', 'elenet', '2.2.0', 'elenet.bin', Buffer.from('2.2.0'));
    await first.updater.slots.current();
    mkdirSync(join(first.dataDir, 'slots/b/elenet'), { recursive: true });
    writeFileSync(join(first.dataDir, 'slots/b/elenet/half'), 'half');
    await new Journal(first.dataDir).write({ args: args([elenet]), phase: 'installing', from: 'a', to: 'b' });
    await first.updater.slots.switchTo('b'); // the switch was made, the journal not yet written
    const restarted = rig(origin.url, first.dataDir);
    await restarted.updater.resume();
    await restarted.updater.running;
    assert.deepEqual(restarted.states('elenet'), ['rolled_back']);
    assert.match(restarted.reports[0]?.reason ?? '', /^INTERRUPTED: /);
    assert.equal(restarted.current(), 'a');
    assert.equal(existsSync(join(first.dataDir, 'slots/b/elenet/half')), false);
  });

  it('fails with DISK_FULL before downloading what the disk cannot hold', async () => {
    await using origin = await startArtifactServer();
    const r = rig(origin.url);
    const huge = { ...origin.add('model', 'faces', '1', 'faces.bin', Buffer.from('x')), length: 2 ** 50 };
    await r.updater.accept(args([huge]));
    await r.updater.running;
    assert.deepEqual(r.states('faces'), ['downloading', 'failed']);
    assert.match(
      r.reports.at(-1)?.reason ?? '',
      /^DISK_FULL: downloading model\/faces\/1\/faces.bin needs \d+ bytes/,
    );
    assert.deepEqual(origin.ranges, [], 'nothing was downloaded');
  });

  it('refuses a malformed command naming the field, and a second rollout while one runs', async () => {
    const target = { path: 'model/faces/1/f.bin', name: 'faces', version: '1', kind: 'model', length: 1 };
    const sha256 = 'a'.repeat(64);
    const refused = (a: Record<string, unknown>, pattern: RegExp) =>
      assert.throws(
        () => parseUpdateArgs(a),
        (e: unknown) => e instanceof UpdateError && e.code === 'BAD_UPDATE' && pattern.test(e.message),
      );
    const good = { rollout: 'r-1', targets: [{ ...target, sha256 }], spreadMs: 0, healthDeadlineMs: 1 };
    assert.equal(parseUpdateArgs(good).targets[0]?.sha256, sha256);
    refused({ ...good, rollout: '../x' }, /rollout/);
    refused({ ...good, targets: [] }, /targets must be 1\.\.16/);
    refused({ ...good, targets: [{ ...target, sha256: 'ABC' }] }, /targets\[0\]\.sha256/);
    refused({ ...good, targets: [{ ...target, sha256, path: 'model/other/1/f.bin' }] }, /targets\[0\]\.path/);
    refused({ ...good, healthDeadlineMs: 0 }, /healthDeadlineMs/);
    await using origin = await startArtifactServer();
    const r = rig(origin.url);
    origin.stallAfter = 0;
    const slow = origin.add('model', 'faces', '2', 'faces.bin', Buffer.from('faces'));
    await r.updater.accept(args([slow]));
    await assert.rejects(r.updater.accept({ ...args([slow]), rollout: 'r-2' }), /BUSY|being installed/);
    r.stop.abort();
    origin.release();
    await r.updater.running;
  });
});

describe('the supervisor’s boot script (self-update)', () => {
  it('marks the first start of a trial and goes back to the old slot at the next', () => {
    const slots = join(mkdtempSync(join(tmpdir(), 'boot-')), 'slots');
    mkdirSync(join(slots, 'a'), { recursive: true });
    mkdirSync(join(slots, 'b'));
    execFileSync('ln', ['-s', 'b', join(slots, 'current')]);
    execFileSync('sh', [BOOT_SCRIPT, slots]);
    assert.equal(readlinkSync(join(slots, 'current')), 'b', 'no trial: nothing changes');
    writeFileSync(join(slots, 'boot-trial'), 'a');
    execFileSync('sh', [BOOT_SCRIPT, slots]);
    assert.equal(readlinkSync(join(slots, 'current')), 'b', 'the first try runs the new slot');
    execFileSync('sh', [BOOT_SCRIPT, slots], { stdio: 'ignore' });
    assert.equal(readlinkSync(join(slots, 'current')), 'a', 'not confirmed: back on slot a');
    assert.equal(existsSync(join(slots, 'boot-trial')), false);
    assert.equal(existsSync(join(slots, 'boot-trial.failed')), true);
  });
});
