/**
 * `devicehub agent` processes with their own slot directories, a real mosquitto and a real
 * artifact origin, the test acting as the hub (the `update` command on the downlink, the states
 * decoded from the uplink): install + healthy once elenet feeds again, the health gate's timeout
 * switching back, a download cut by kill -9 resuming with Range after the restart, an install
 * cut by kill -9 rolled back at the next start. The full disk: agent-disk-full.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { waitFor } from '../../../infra/mod.ts';
import { useUpdateRig } from './testdata/update-rig.ts';

const rig = useUpdateRig();

describe('agent install (agent processes, A/B slots)', { timeout: 90_000 }, () => {
  it('installs, switches and reports healthy once elenet feeds it again; a gate timeout switches back', async () => {
    const agent = await rig.agent();
    const elenet = rig.origin.add(
      'edge-package',
      'elenet',
      '2.1.0',
      'elenet.bin',
      Buffer.from('elenet 2.1.0\n'),
    );
    rig.update('r-ok', [elenet]);
    await rig.until('r-ok', 'elenet', 'installing');
    await waitFor(() => agent.current() === 'b', { message: 'the switch to slot b' });
    await agent.feedElenet();
    await rig.until('r-ok', 'elenet', 'healthy');
    assert.deepEqual(
      rig.states.filter((s) => s.rollout === 'r-ok').map((s) => s.state),
      ['downloading', 'downloaded', 'verified', 'installing', 'healthy'],
    );
    assert.ok(
      rig.results.some(
        (r) => r.id === 'r-ok.update.1' && r.ok && (r.result as { accepted?: boolean }).accepted,
      ),
      'the command was answered: accepted',
    );
    assert.equal(readFileSync(join(agent.dataDir, 'slots/b/elenet/elenet.bin'), 'utf8'), 'elenet 2.1.0\n');

    const lite = rig.origin.add('edge-package', 'litefcccore', '5.0.0', 'litefcccore', Buffer.from('lite 5'));
    rig.update('r-timeout', [lite], { healthDeadlineMs: 1500 });
    await rig.until('r-timeout', 'litefcccore', 'installing');
    const rolledBack = await rig.until('r-timeout', 'litefcccore', 'rolled_back');
    assert.match(rolledBack.reason ?? '', /^HEALTH_TIMEOUT: .*litefcccore/);
    assert.equal(agent.current(), 'b', 'back on the slot that ran before');
    await agent.kill9();
  });

  it('resumes a download cut by kill -9 where it stopped (Range) after the restart', async () => {
    const bytes = Buffer.alloc(3 * 1024 * 1024, 7);
    const model = rig.origin.add('model', 'plates', '3.0.0', 'plates.bin', bytes);
    rig.origin.stallAfter = 1024 * 1024;
    const first = await rig.agent();
    rig.update('r-resume', [model]);
    const part = join(first.dataDir, 'updates/downloads', `${model.sha256}.part`);
    await waitFor(() => existsSync(part) && statSync(part).size === 1024 * 1024, {
      message: 'the first MiB on disk',
    });
    await first.kill9();
    rig.origin.release();
    const ranges = rig.origin.ranges.length;
    const second = await rig.agent({ dataDir: first.dataDir });
    await rig.until('r-resume', 'plates', 'verified');
    assert.deepEqual(rig.origin.ranges.slice(ranges), ['bytes=1048576-'], 'one request, from the cut');
    await waitFor(() => second.current() === 'b', { message: 'the switch to slot b' });
    await second.feedElenet();
    await rig.until('r-resume', 'plates', 'healthy');
    assert.equal(statSync(join(second.dataDir, 'slots/b/plates/plates.bin')).size, bytes.byteLength);
    await second.kill9();
  });

  it('rolls back an install cut by kill -9, keeping the slot that ran', async () => {
    const installer = `echo $$ > "$DH_SLOT_DIR/../installer.pid"; echo half > "$1/half"; exec sleep 60\n`;
    const pkg = rig.origin.add('edge-package', 'elenet', '3.0.0', 'elenet.run', Buffer.from(installer));
    const first = await rig.agent();
    rig.update('r-kill', [pkg]);
    const pidFile = join(first.dataDir, 'slots/installer.pid');
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', {
      message: 'the installer running',
    });
    await first.kill9();
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL'); // the installer outlived its agent
    assert.equal(first.current(), 'a');
    const second = await rig.agent({ dataDir: first.dataDir });
    const state = await rig.until('r-kill', 'elenet', 'rolled_back');
    assert.match(state.reason ?? '', /^INTERRUPTED: /);
    assert.equal(second.current(), 'a');
    assert.deepEqual(readdirSync(join(second.dataDir, 'slots/b')), [], 'the half-installed slot is emptied');
    await second.kill9();
  });
});
