/**
 * A long-running command asked to stop always does, also when a server it needs is gone (its
 * graceful stop would wait for it forever): `devicehub link mqtt` and `devicehub gateway` whose
 * Redis was killed -9 exit on SIGTERM, saying which step they could not finish.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { createKeyspace } from '../bus/mod.ts';
import { LINK_USER } from '../edge/broker/mod.ts';
import {
  type DevicehubProcess,
  freePort,
  keyspaceArgs,
  spawnDevicehub,
  startMosquitto,
  startRedisServer,
  waitFor,
} from '../infra/mod.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** SIGTERM, then its exit code — or 'still running' after a generous 30 s. */
async function sigterm(c: TestContext, proc: DevicehubProcess): Promise<number | null | 'still running'> {
  const signalled = Date.now();
  proc.child.kill('SIGTERM');
  const exit = await Promise.race([proc.exited, sleep(30_000).then(() => 'still running' as const)]);
  c.diagnostic(`exited ${Date.now() - signalled} ms after SIGTERM, code ${exit}`);
  return exit;
}

describe('a command whose Redis is gone', { timeout: 120_000 }, () => {
  it('devicehub link mqtt exits on SIGTERM, saying what it could not finish', async (c) => {
    await using redis = await startRedisServer();
    await using mosquitto = await startMosquitto({ users: { [LINK_USER]: 'link-secret' } });
    const keyspace = createKeyspace({ prefix: 'stop', shards: 16 });
    await using link = spawnDevicehub(
      [
        'link',
        'mqtt',
        ...keyspaceArgs(redis.url, keyspace),
        '--url',
        mosquitto.url,
        '--username',
        LINK_USER,
        '--password',
        'link-secret',
      ],
      { name: 'link' },
    );
    await link.ready;
    await redis.kill();
    // Gone for the link too: it has failed to reconnect.
    await waitFor(() => link.logs.some((l) => /ECONNREFUSED/.test(JSON.stringify(l.err ?? ''))), {
      message: 'the link to find Redis gone',
    });
    assert.equal(await sigterm(c, link), 1, JSON.stringify(link.logs.slice(-4)));
    const said = link.logs.find((l) => l.level === 50 && typeof l.step === 'string');
    assert.ok(said, `a log line naming the unfinished step: ${JSON.stringify(link.logs.slice(-3))}`);
    assert.match(String(said.msg), /stop did not finish within \d+ ms/);
  });

  it('devicehub gateway exits on SIGTERM', async (c) => {
    await using redis = await startRedisServer();
    const keyspace = createKeyspace({ prefix: 'stop', shards: 16 });
    const port = await freePort();
    await using gateway = spawnDevicehub(
      [
        'gateway',
        ...keyspaceArgs(redis.url, keyspace),
        '--port',
        String(port),
        '--data-dir',
        mkdtempSync(join(tmpdir(), 'dh-stop-gateway-')),
      ],
      { name: 'gateway' },
    );
    await gateway.ready;
    await redis.kill();
    const exit = await sigterm(c, gateway);
    // Its stop may finish without Redis (0) or be cut off at the deadline (1): either way it ends.
    assert.ok(exit === 0 || exit === 1, `exit ${exit}`);
  });
});
