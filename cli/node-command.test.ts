/**
 * `devicehub node` as its own process: it serves its Prometheus metrics when asked to.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActorClient } from '../actors/mod.ts';
import { edgeActor } from '../edge/mod.ts';
import { freePort, spawnDevicehub, waitFor } from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';

const t = useRedis();

describe('devicehub node', { timeout: 30_000 }, () => {
  it('serves its own metrics on --metrics-port', async () => {
    const keyspace = t.keyspace();
    const port = await freePort();
    await using node = spawnDevicehub(
      ['node', ...t.cliArgs(keyspace), '--id', 'm-1', '--metrics-port', String(port)],
      {
        env: { DH_LOG_LEVEL: 'warn' },
      },
    );
    await node.ready;
    await createActorClient(t.bus(keyspace), edgeActor).send('M-1', 'telemetry', {
      kind: 'status',
      data: { floor: 2 },
    });
    const scrape = async () => await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    await waitFor(async () => /devicehub_node_handled_total\{node="m-1"\} 1\b/.test(await scrape()), {
      message: 'the handled message in the metrics',
    });
    const text = await scrape();
    assert.match(text, /# TYPE devicehub_node_shards gauge\ndevicehub_node_shards\{node="m-1"\} 64/);
    assert.match(text, /devicehub_node_latency_ms\{node="m-1",quantile="0.99"\} \d/);
    // The latency histogram holds the one message; the backlog gauge is the held shards' (a number).
    assert.match(text, /\ndevicehub_node_turn_latency_seconds_bucket\{node="m-1",le="\+Inf"\} 1\n/);
    assert.match(text, /\ndevicehub_node_turn_latency_seconds_count\{node="m-1"\} 1\n/);
    assert.match(
      text,
      /# TYPE devicehub_node_backlog_entries gauge\ndevicehub_node_backlog_entries\{node="m-1"\} \d+\n/,
    );
    assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
  });
});
