/**
 * A hub process with DEVICEHUB_LOG_STORE set: `devicehub node` logs to stdout as before and ships
 * the same lines to a real VictoriaLogs (service and nodeId lifted, levels named), its /metrics
 * carry the shipper's families, and the lines it logs while stopping reach the store (the stop's
 * last step). Redis Cluster pass: once — Redis only runs the node; the shipping is what is tested.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, spawnDevicehub, startVictoriaLogs, waitFor } from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { openLogStore } from '../logs/mod.ts';

const t = useRedis();

describe('devicehub node with DEVICEHUB_LOG_STORE', { timeout: 60_000 }, () => {
  it('ships its lines besides stdout, counts them in /metrics, and sends the last ones on SIGTERM', async () => {
    await using vl = await startVictoriaLogs();
    await using store = openLogStore(vl.url);
    const bufferDir = mkdtempSync(join(tmpdir(), 'dh-logbuf-'));
    const keyspace = t.keyspace();
    const port = await freePort();
    const from = Date.now();
    await using node = spawnDevicehub(
      ['node', ...t.cliArgs(keyspace), '--id', 'ship-1', '--metrics-port', String(port)],
      { env: { DH_LOG_LEVEL: 'info', DEVICEHUB_LOG_STORE: vl.url, DEVICEHUB_LOG_BUFFER_DIR: bufferDir } },
    );
    await node.ready;
    // Ready comes over IPC; the stdout lines before it may still be on their way.
    await waitFor(() => node.logs.length > 0, { message: 'stdout has its lines as before' });
    assert.deepEqual(readdirSync(bufferDir), ['node-1'], 'a buffer folder of its own');
    const scrape = async () => await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    await waitFor(async () => /devicehub_log_lines_total\{outcome="shipped"\} [1-9]/.test(await scrape()), {
      message: 'shipped lines counted in /metrics',
    });
    assert.match(await scrape(), /# TYPE devicehub_log_buffer_bytes gauge\ndevicehub_log_buffer_bytes 0\n/);
    await node.stop();
    assert.equal(await node.exited, 0);
    const stdoutStopping = node.logs.find((l) => l.msg === 'stopping');
    assert.ok(stdoutStopping, 'the stop was logged on stdout');
    const page = await waitFor(
      async () => {
        const got = await store.query({ from, to: Date.now() + 1000, service: 'node', limit: 1000 });
        return got.records.some((r) => r.msg === 'stopping') ? got : undefined;
      },
      { timeoutMs: 20_000, message: 'the line logged on SIGTERM in the store' },
    );
    const stopping = page.records.find((r) => r.msg === 'stopping');
    assert.equal(stopping?.level, 'info');
    assert.equal(stopping?.service, 'node');
    assert.equal(stopping?.fields?.signal, 'SIGTERM');
    assert.ok(
      page.records.some((r) => r.nodeId === 'ship-1'),
      'nodeId lifted from the lines the node binds it to',
    );
    assert.ok(
      page.records.length >= node.logs.length - 1,
      `${page.records.length} of ${node.logs.length} lines`,
    );
  });
});
