/**
 * The agent for devices and its own update, for real: `bundleAgent` (npm run bundle:agent) builds
 * the one-file bundle, which answers --help and runs as `devicehub agent` against a real mosquitto
 * from slot a. An update of `devicehub-agent` installs the new bundle into slot b, opens a boot
 * trial, switches and stops; the test then does what systemd does (the boot script, then node on
 * slots/current/...): the new agent passes its gate and confirms. A new bundle that crashes at
 * start is taken back by the boot script at the next start, and the old agent reports rolled_back.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { type AgentBundle, bundleAgent } from '../../../deploy/agent/bundle.ts';
import { useUpdateRig } from './testdata/update-rig.ts';

const rig = useUpdateRig();
let bundle: AgentBundle;
before(async () => {
  bundle = await bundleAgent(join(mkdtempSync(join(tmpdir(), 'bundle-')), 'devicehub-agent.mjs'));
});

/** A data directory whose slot a runs `bundle` (as the device's first install leaves it). */
function deviceWith(file: string): string {
  const dataDir = mkdtempSync(join(tmpdir(), 'device-'));
  mkdirSync(join(dataDir, 'slots/a/devicehub-agent'), { recursive: true });
  writeFileSync(join(dataDir, 'slots/a/devicehub-agent/devicehub-agent.mjs'), readFileSync(file));
  symlinkSync('a', join(dataDir, 'slots/current'));
  return dataDir;
}
/** What systemd runs: node on the bundle of the current slot. */
const fromCurrentSlot = (dataDir: string) => [
  process.execPath,
  join(dataDir, 'slots/current/devicehub-agent/devicehub-agent.mjs'),
];

describe('the agent bundle and its own update', { timeout: 90_000 }, () => {
  it('is one file of plain JavaScript that answers --help', () => {
    assert.ok(bundle.bytes < 8 * 2 ** 20, `${bundle.bytes} bytes`);
    for (const p of ['mqtt', 'kafkajs', 'msgpackr', 'tuf-js']) assert.ok(bundle.packages.includes(p), p);
    for (const p of ['ioredis', 'hono', 'bullmq', '@electric-sql/pglite'])
      assert.ok(!bundle.packages.includes(p), `${p} is the hub's`);
    const help = execFileSync(process.execPath, [bundle.file, '--help'], { encoding: 'utf8' });
    assert.match(help, /devicehub agent --config FILE/);
    assert.match(help, /updates/);
  });

  it('updates itself into the other slot, restarts there and confirms once healthy', async () => {
    const dataDir = deviceWith(bundle.file);
    const old = await rig.agent({ dataDir, entry: fromCurrentSlot(dataDir) });
    const v2 = Buffer.concat([readFileSync(bundle.file), Buffer.from('\n// 2.0.0\n')]);
    const target = rig.origin.add('edge-package', 'devicehub-agent', '2.0.0', 'devicehub-agent.mjs', v2);
    rig.update('r-self', [target]);
    assert.equal(await old.exited, 0, 'the old agent stopped by itself, gracefully');
    assert.equal(old.current(), 'b');
    assert.equal(readFileSync(join(dataDir, 'slots/boot-trial'), 'utf8'), 'a', 'a boot trial is open');
    const next = await rig.agent({ dataDir, entry: fromCurrentSlot(dataDir) });
    await rig.until('r-self', 'devicehub-agent', 'healthy');
    assert.equal(next.current(), 'b');
    assert.equal(existsSync(join(dataDir, 'slots/boot-trial')), false, 'confirmed');
    assert.ok(
      readFileSync(join(dataDir, 'slots/b/devicehub-agent/devicehub-agent.mjs'), 'utf8').endsWith(
        '// 2.0.0\n',
      ),
    );
    await next.kill9();
  });

  it('goes back to the old agent when the new one cannot start', async () => {
    const dataDir = deviceWith(bundle.file);
    const old = await rig.agent({ dataDir, entry: fromCurrentSlot(dataDir) });
    const broken = Buffer.from("throw new Error('broken build');\n");
    const target = rig.origin.add('edge-package', 'devicehub-agent', '2.0.1', 'devicehub-agent.mjs', broken);
    rig.update('r-broken', [target]);
    assert.equal(await old.exited, 0);
    await assert.rejects(
      rig.agent({ dataDir, entry: fromCurrentSlot(dataDir) }),
      /exited with 1 before it was ready/,
    );
    const again = await rig.agent({ dataDir, entry: fromCurrentSlot(dataDir) }); // systemd's next start
    assert.equal(again.current(), 'a', 'the boot script went back');
    const state = await rig.until('r-broken', 'devicehub-agent', 'rolled_back');
    assert.match(state.reason ?? '', /^HEALTH_TIMEOUT: the new version did not start/);
    assert.equal(existsSync(join(dataDir, 'slots/boot-trial.failed')), true);
    await again.kill9();
  });
});
