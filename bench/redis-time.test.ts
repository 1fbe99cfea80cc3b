/**
 * bench/redis-time.ts: the bus's scripts told apart in Redis's own log of what it ran, on a real
 * redis-server, and its settings put back afterwards.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { connectRedis, createKeyspace, openBus, scriptNamed } from '../bus/mod.ts';
import { startRedisServer, waitFor } from '../infra/mod.ts';
import { formatRows, groupSlowlog, recordSlowlog, type SlowlogEntry } from './redis-time.ts';

test('every script call is named (by digest, or by body the first time), and the log settings are put back', async () => {
  await using server = await startRedisServer({ appendonly: false });
  const redis = connectRedis(server.url, { name: 'redis-time-test' });
  const tool = new Redis(server.url); // the tool's own connection, as bench/redis-time.ts makes it
  try {
    const bus = openBus({ redis, keyspace: createKeyspace({ prefix: 'rt', shards: 8 }) });
    const recording = recordSlowlog(tool, 1);
    // Once the tool has turned the log on for every command.
    await waitFor(
      async () => ((await redis.config('GET', 'slowlog-log-slower-than')) as string[])[1] === '0',
      { message: 'the slowlog to log every command' },
    );
    const messages = Array.from({ length: 5 }, (_, i) => ({
      address: `edge/E-${i}`,
      method: 'm',
      payload: i,
    }));
    await bus.enqueueMany(messages.map((m) => bus.encodeMessage(m, Date.now())));
    await bus.enqueueMany(messages.map((m) => bus.encodeMessage(m, Date.now())));
    await bus.heartbeat('node-a', 1_000);
    const { scripts, commands } = groupSlowlog(await recording, scriptNamed);
    const enqueue = scripts.find((s) => s.name === 'enqueue-many');
    assert.ok(enqueue !== undefined, JSON.stringify(scripts));
    assert.equal(enqueue.calls, 2, 'EVAL the first time (the server did not know it), then EVALSHA');
    assert.equal(enqueue.keysPerCall, 6, 'the ready set and five mailboxes');
    assert.ok(
      scripts.some((s) => s.name === 'heartbeat'),
      JSON.stringify(scripts),
    );
    // A script's commands are logged as well, under their own names.
    assert.equal(commands.find((c) => c.name === 'xadd')?.calls, 10, JSON.stringify(commands));
    assert.deepEqual(await redis.config('GET', 'slowlog-log-slower-than'), [
      'slowlog-log-slower-than',
      '10000',
    ]);
    assert.deepEqual(await redis.config('GET', 'slowlog-max-len'), ['slowlog-max-len', '128']);
  } finally {
    redis.disconnect();
    tool.disconnect();
  }
});

test('a script the bus does not know keeps its digest; the table gives µs a message with a rate', () => {
  const entries: SlowlogEntry[] = [
    [1, 0, 300, ['EVALSHA', 'a'.repeat(40), '2', 'k1', 'k2'], '127.0.0.1:1', 'link'],
    [2, 0, 100, ['EVALSHA', 'a'.repeat(40), '4', 'k1', 'k2', 'k3', 'k4'], '127.0.0.1:1', 'link'],
    [3, 0, 50, ['EVALSHA', 'b'.repeat(40), '0'], '127.0.0.1:1', 'link'],
    [4, 0, 7, ['XADD', 'k1', '*', 'a', '1'], '', ''],
  ];
  const { scripts, commands } = groupSlowlog(entries, (d) => (d === 'a'.repeat(40) ? 'commit' : undefined));
  assert.deepEqual(scripts, [
    { name: 'commit', calls: 2, micros: 400, keysPerCall: 3 },
    { name: 'script bbbbbbbb', calls: 1, micros: 50, keysPerCall: 0 },
  ]);
  assert.deepEqual(commands, [{ name: 'xadd', calls: 1, micros: 7, keysPerCall: 0 }]);
  // Over 2 s at 100 messages a second: commit is 200 µs a second, 2 µs a message.
  const table = formatRows('script', scripts, { seconds: 2, rate: 100 });
  assert.match(table, /\| commit \| 1 \| 200\.0 \| 3 \| 0\.2 \| 2\.00 \|/);
});
