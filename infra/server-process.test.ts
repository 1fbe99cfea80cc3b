/**
 * A server that refuses its stop signal (redis-server does while a replica writes its initial
 * AOF) is killed after `stopTimeoutMs`: a test's teardown never hangs on it. One that exits
 * before its port answers fails the start with how it exited, not a timeout; one that exits once
 * up (its port was another's) ends a readiness wait given its `exitSignal`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { freePort } from './free-port.ts';
import { startServerProcess } from './server-process.ts';
import { waitFor } from './wait-for.ts';

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

  // Each wait below is 60 s: the suite's 20 s timeout fails a wait that runs to its deadline.
  it('fails the start at once with how the server exited, when it exits before its port answers', {
    timeout: 20_000,
  }, async () => {
    const port = await freePort();
    await assert.rejects(
      startServerProcess({
        name: 'short-lived',
        port,
        timeoutMs: 60_000,
        spawnServer: () => spawn(process.execPath, ['-e', 'process.exit(3)'], { stdio: 'ignore' }),
        describeExit: (code) => `short-lived server exited with ${code}`,
      }),
      { message: 'short-lived server exited with 3' },
    );
  });

  it('ends a readiness wait given its exitSignal when the server exits', { timeout: 20_000 }, async () => {
    // Another process holds the port: the start finds it open, and the server exits (bind failed).
    const other = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => other.once('listening', resolve));
    try {
      const port = (other.address() as { port: number }).port;
      const server = await startServerProcess({
        name: 'late exit',
        port,
        spawnServer: () =>
          spawn(process.execPath, ['-e', 'setTimeout(() => process.exit(4), 300)'], { stdio: 'ignore' }),
        describeExit: (code) => `late exit: exited with ${code}`,
      });
      await assert.rejects(
        waitFor(() => false, { timeoutMs: 60_000, message: 'never', signal: server.exitSignal }),
        { message: 'late exit: exited with 4' },
      );
    } finally {
      other.close();
    }
  });
});
