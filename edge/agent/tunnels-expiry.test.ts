/**
 * Tunnels end by themselves (the real frp, the whole path of testdata/tunnel-path.ts): a short TTL
 * expires, bringing a crashed frpc back until then; and the durable timer closes a tunnel even
 * when the hub node that opened it was killed (two `devicehub node` processes).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { portOpen, waitFor } from '../../infra/mod.ts';
import { portOf, setup, useTunnelServers } from './testdata/tunnel-path.ts';

const env = useTunnelServers();

describe('tunnels through frp', { timeout: 90_000 }, () => {
  it('expires by itself, and brings a crashed frpc back until then', async () => {
    await using s = await setup(env);
    // 12 s to open, lose frpc and bring it back before the end: in the Redis Cluster pass (two
    // files on two cores, the other one the tunnels file with its browser) a 6 s tunnel once
    // expired before the edge had opened it.
    const opened = await s.call('POST', '/v1/edges/E-7/tunnels', { services: ['console'], ttlSeconds: 12 });
    const id = String(opened.body.id);
    const port = portOf(opened.body, 'console');
    await s.waitOpen(id);
    const pid = s.tunnels.pid(id)!;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => s.tunnels.pid(id) !== undefined && s.tunnels.pid(id) !== pid, {
      message: 'frpc started again',
    });
    await waitFor(
      async () =>
        (
          await fetch(`http://127.0.0.1:${port}/`).then(
            (r) => r.text(),
            () => '',
          )
        ).includes('litefcccore'),
      {
        message: 'the console reachable again',
      },
    );
    await waitFor(async () => (await s.state(id)).state === 'expired', {
      timeoutMs: 20_000,
      message: 'the tunnel to expire',
    });
    await waitFor(async () => !(await portOpen(port)), { timeoutMs: 10_000, message: 'the port to refuse' });
    assert.deepEqual(s.tunnels.openTunnels, []);
  });

  it('closes by the timer even when the hub node that opened it was killed', async () => {
    await using s = await setup(env, { processes: true });
    const opened = await s.call('POST', '/v1/edges/E-7/tunnels', { services: ['ssh'], ttlSeconds: 8 });
    const id = String(opened.body.id);
    const port = portOf(opened.body, 'ssh');
    await s.waitOpen(id);
    const owner = await s.owner();
    assert.ok(owner, 'a hub node process holds E-7');
    await owner.kill('SIGKILL');
    await waitFor(async () => (await s.owner()) !== undefined && (await s.owner()) !== owner, {
      message: 'the other node to take E-7 over',
    });
    await waitFor(async () => (await s.state(id)).state === 'expired', {
      timeoutMs: 20_000,
      message: 'the durable timer to expire the tunnel on the surviving node',
    });
    await waitFor(async () => !(await portOpen(port)), { timeoutMs: 10_000, message: 'the port to refuse' });
  });
});
