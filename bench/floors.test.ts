/**
 * The floors are measured warm (floors.ts): the Redis loops in rounds after a warm-up, each half's
 * figure their median; the MQTT loop counts only what arrives after the publishers' warm-up. A
 * real redis-server and mosquitto; the CPU figures themselves are the benchmarks' business.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startRedisServer } from '../infra/mod.ts';
import { measureMqttFloor } from './floor-mqtt.ts';
import { measureRedisFloor } from './floor-redis.ts';
import { median } from './quantile.ts';

test('the Redis floor is the median of its rounds, each half apart', async () => {
  await using redis = await startRedisServer({ appendonly: false });
  const floor = await measureRedisFloor({ url: redis.url, messages: 2_000, rounds: 3 });
  assert.equal(floor.rounds.length, 3);
  for (const r of floor.rounds)
    assert.ok(r.enqueueMicrosPerMsg > 0 && r.readAckMicrosPerMsg > 0, JSON.stringify(r));
  const mid = (xs: number[]) => Number(median(xs).toFixed(2));
  assert.equal(floor.enqueueMicrosPerMsg, mid(floor.rounds.map((r) => r.enqueueMicrosPerMsg)));
  assert.equal(floor.readAckMicrosPerMsg, mid(floor.rounds.map((r) => r.readAckMicrosPerMsg)));
  await assert.rejects(measureRedisFloor({ url: redis.url, rounds: 0 }), /rounds must be a positive integer/);
});

test('the MQTT floor counts the messages after the warm-up only', async () => {
  const floor = await measureMqttFloor({ ratePerSec: 1_000, seconds: 1, warmupSeconds: 1 });
  assert.equal(floor.sent, 1_000, 'the publishers report the measured second alone');
  // Everything sent after the warm-up arrives in the window, with at most what was in flight
  // when it opened; never the warm-up's thousand.
  assert.ok(floor.received >= 900 && floor.received < 1_500, `received ${floor.received} of ${floor.sent}`);
  assert.ok(floor.microsPerMsg > 0);
});

test('median: the middle value, or the mean of the two middle ones', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([]), 0);
});
