/**
 * The screen read model fed by a real event feed (and the cluster pass): tiles from the live
 * streams, and when the feed missed live entries (trimmed before it read them), the states read
 * again from the actors' checkpoints — so a gateway that fell behind shows what the edges last
 * checkpointed, not the tile it happened to read last, and counts it on its `/metrics`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { appendLive } from '../../bus/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { EventFeed } from '../live-events.ts';
import { screenMetrics } from './metrics.ts';
import { ScreenModel } from './read-model.ts';
import { TestRegistry } from './test-registry.ts';

const t = useRedis();

describe('the screen read model after a live gap', () => {
  it('reads the states again when the feed missed live entries', async () => {
    const keyspace = t.keyspace();
    const bus = t.bus(keyspace);
    const address = 'edge/E-1';
    const group = keyspace.groupOf(keyspace.shardOf(address));
    const checkpoint = (floor: number, lastSeen: number) =>
      t.redis.hset(
        keyspace.shard(keyspace.shardOf(address)).state,
        address,
        JSON.stringify({
          id: '0-1',
          s: {
            online: true,
            lastSeen,
            shadow: { status: { floor, running: false, faultCode: 0 } },
            openAlarms: {},
          },
        }),
      );
    await checkpoint(7, 5000);
    await using feed = await new EventFeed({ bus }).start();
    await using model = await new ScreenModel({
      edges: new TestRegistry([['E-1', null]]),
      tickMs: 3_600_000,
      reconcileMs: 3_600_000,
    }).start({ bus, feed });
    const floor = async () => {
      await model.tick();
      return (JSON.parse(model.scope('fleet')!.snapshot().json) as { tiles: { floor: number }[] }).tiles[0]!
        .floor;
    };
    assert.equal(await floor(), 7, 'from the checkpoint at start');
    const tile = (f: number, lastSeen: number) =>
      JSON.stringify({ type: 'edge.tile', edgeId: 'E-1', floor: f, online: true, lastSeen });
    await appendLive(t.redis, keyspace, group, [tile(8, 6000)]);
    await waitFor(async () => (await floor()) === 8, { message: 'the tile read live' });

    // The edge moved on (floors 9, then 10, checkpointed at 10), and the feed missed those tiles.
    await checkpoint(10, 7000);
    await t.redis.incrby(keyspace.liveSeq(group), 2);
    await appendLive(t.redis, keyspace, group, [
      JSON.stringify({ type: 'edge.tile', edgeId: 'E-2', floor: 1, online: true, lastSeen: 7000 }),
    ]);
    await waitFor(async () => (await floor()) === 10, { message: 'the checkpoint read after the gap' });
    assert.equal(model.liveGaps, 1);
    // And operators see it on the gateway's /metrics.
    const registry = new Registry();
    screenMetrics(registry, model);
    assert.match(await registry.metrics(), /^devicehub_screen_live_gaps_total 1$/m);
  });
});
