/**
 * A server that refuses its stop signal (redis-server does while a replica writes its initial
 * AOF) is killed after `stopTimeoutMs`: a test's teardown never hangs on it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { freePort } from './free-port.ts';
import { startServerProcess } from './server-process.ts';

const STUBBORN = `process.on('SIGTERM', () => {});
require('node:net').createServer().listen(Number(process.argv[1]), '127.0.0.1');`;

describe('server process', () => {
  // The timeout makes a stop that waits forever (the bug) a failure, not a hung suite.
  it('kills a server that ignores its stop signal once stopTimeoutMs has passed', {
    timeout: 20_000,
  }, async () => {
    const port = await freePort();
    const server = await startServerProcess({
      name: 'stubborn',
      port,
      spawnServer: () => spawn(process.execPath, ['-e', STUBBORN, String(port)], { stdio: 'ignore' }),
      describeExit: (code) => `stubborn server exited with ${code}`,
      stopTimeoutMs: 300,
    });
    const pid = server.pid;
    assert.ok(pid !== undefined);
    await server.stop();
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the process is gone');
  });
});
