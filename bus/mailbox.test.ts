import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useRedis } from '../infra/test-redis.ts';
import { waitFor } from '../infra/wait-for.ts';
import { decodeRawEntry, rawEntryFields } from './entry.ts';
import { CONSUMER_GROUP, type Keyspace, shardMask } from './keys.ts';
import { tryDecode } from './mailbox.ts';
import { runScript } from './scripts.ts';

const t = useRedis();

async function acquire(keyspace: Keyspace, node: string, shard: number, ttlMs: number): Promise<number> {
  const keys = keyspace.shard(shard);
  const reply = (await runScript(
    t.redis,
    'acquire',
    [keys.lease, keys.mailbox],
    [node, ttlMs, CONSUMER_GROUP],
  )) as [number, string][];
  return Number(reply[0]![0]);
}

describe('mailbox reads', () => {
  it('are fenced: a node whose lease was taken over reads no new entries, so none strand in its pending list', async () => {
    const keyspace = t.keyspace({ shards: 4 });
    const address = 'edge/fenced';
    const shard = keyspace.shardOf(address);
    const readable = { mask: shardMask(keyspace, new Set([shard])), groups: [keyspace.groupOf(shard)] };
    // Long enough that a's first read falls inside it on a loaded CI machine (150 ms once did not).
    assert.equal(await acquire(keyspace, 'a', shard, 1_000), 1);
    await t.bus(keyspace).enqueue([{ address, method: 'm', payload: 1 }]);
    assert.equal(
      (await t.bus(keyspace).readReady({ consumer: 'a', readable: readable, count: 10 })).length,
      1,
      'a holds the shard: it reads',
    );

    // a's lease expires (a paused, or cut off from Redis): past its `until` on Redis's clock.
    const until = Number(await t.redis.hget(keyspace.shard(shard).lease, 'until'));
    await waitFor(
      async () => {
        const [seconds, micros] = await t.redis.time();
        return Number(seconds) * 1000 + Number(micros) / 1000 > until;
      },
      { message: "a's lease to expire" },
    );
    assert.equal(await acquire(keyspace, 'b', shard, 10_000), 2);
    assert.equal(await t.bus(keyspace).claimPending(shard, 'b'), 1, 'b claims what a had read');
    await t.bus(keyspace).enqueue([{ address, method: 'm', payload: 2 }]);

    assert.deepEqual(
      await t.bus(keyspace).readReady({ consumer: 'a', readable: readable, count: 10 }),
      [],
      'a may not read after losing it',
    );
    assert.deepEqual(
      await t.bus(keyspace).readShards({ consumer: 'a', reads: [{ shard, from: '>' }], count: 10 }),
      [],
    );
    const forB = await t.bus(keyspace).readReady({ consumer: 'b', readable: { ...readable }, count: 10 });
    assert.equal(forB[0]?.entries.length, 1, 'the new entry waits for b');
    const pendingOfB = await t
      .bus(keyspace)
      .readShards({ consumer: 'b', reads: [{ shard, from: '0' }], count: 10 });
    assert.equal(pendingOfB[0]?.entries.length, 2, 'both entries are pending to b');
  });

  it('read every ready shard this node holds in one step, COUNT per shard, and keep only the undrained ones ready', async () => {
    // One tag group holding all 8 shards (one slot on a Redis Cluster too): one read-ready call.
    const keyspace = t.keyspace({ shards: 8, tagGroups: 1 });
    const bus = t.bus(keyspace);
    // An address on each shard.
    const on = new Map<number, string>();
    for (let i = 0; on.size < 8; i++) {
      const address = `edge/r${i}`;
      if (!on.has(keyspace.shardOf(address))) on.set(keyspace.shardOf(address), address);
    }
    const send = (shard: number, n: number) =>
      bus.enqueue(
        Array.from({ length: n }, (_, i) => ({ address: on.get(shard)!, method: 'm', payload: i })),
      );
    for (const shard of [0, 1, 2, 3]) assert.equal(await acquire(keyspace, 'a', shard, 10_000), 1);
    assert.equal(await acquire(keyspace, 'b', 4, 10_000), 1);
    await send(0, 3); // more than COUNT: stays ready
    await send(1, 1);
    await send(3, 1); // a holds it, but it is not in the mask this read gives
    await send(4, 1); // b's
    const ready = keyspace.ready(0);
    await t.redis.sadd(ready, '2'); // a stale signal: nothing to read
    const readable = { mask: shardMask(keyspace, new Set([0, 1, 2, 4])), groups: [0] };

    const xreadgroups = await t.commandCalls('xreadgroup');
    const first = await bus.readReady({ consumer: 'a', readable, count: 2 });
    // Shards 0, 1 and 2 pass the mask and a's leases: one XREADGROUP reads all three (decision 061).
    assert.equal(await t.commandCalls('xreadgroup'), xreadgroups + 1, 'one XREADGROUP for the group');
    assert.deepEqual(
      first
        .map((r) => [r.shard, r.entries.map((e) => JSON.stringify(decodeRawEntry(e).payload))])
        .sort((x, y) => Number(x[0]) - Number(y[0])),
      [
        [0, ['0', '1']],
        [1, ['0']],
      ],
    );
    assert.deepEqual((await t.redis.smembers(ready)).sort(), ['0', '3', '4'], 'drained shards leave the set');
    const second = await bus.readReady({ consumer: 'a', readable, count: 2 });
    assert.deepEqual(
      second.map((r) => [r.shard, r.entries.map((e) => JSON.stringify(decodeRawEntry(e).payload))]),
      [[0, ['2']]],
    );
    assert.deepEqual((await t.redis.smembers(ready)).sort(), ['3', '4']);
    assert.deepEqual(await bus.readReady({ consumer: 'a', readable, count: 2 }), []);
  });

  it('return a usual entry flat, without its field names; any other as XREADGROUP gives it', async () => {
    const keyspace = t.keyspace({ shards: 1 });
    const bus = t.bus(keyspace);
    const mailbox = keyspace.shard(0).mailbox;
    assert.equal(await acquire(keyspace, 'a', 0, 10_000), 1);
    const [usualId] = await bus.enqueue([
      { address: 'edge/p1', method: 'telemetry', payload: { a: 'x\ny' } },
    ]);
    // A foreign writer's entries: its own field order, a bad address and a newline in the method
    // (still the usual form), a missing payload.
    const reordered = await t.redis.xadd(mailbox, '*', 'm', 'telemetry', 'a', 'edge/p2', 'p', '2', 't', '7');
    const badAddress = await t.redis.xadd(
      mailbox,
      '*',
      'a',
      'edge/p\n3',
      'm',
      'telemetry',
      'p',
      '3',
      't',
      '7',
    );
    const newline = await t.redis.xadd(mailbox, '*', 'a', 'edge/p4', 'm', 'tele\nmetry', 'p', '4', 't', '7');
    const noPayload = await t.redis.xadd(mailbox, '*', 'a', 'edge/p5', 'm', 'telemetry', 't', '7');

    const [read] = await bus.readShards({ consumer: 'a', reads: [{ shard: 0, from: '>' }], count: 10 });
    const raw = read!.entries;
    assert.deepEqual(
      raw.map((e) => ('fields' in e ? 'fields' : 'flat')),
      ['flat', 'fields', 'flat', 'flat', 'fields'],
      'only entries in the usual form come flat',
    );
    assert.deepEqual(
      raw.map((e) => e.id),
      [usualId, reordered, badAddress, newline, noPayload],
    );
    const usual = decodeRawEntry(raw[0]!);
    assert.deepEqual(
      [usual.address, usual.method, usual.payload],
      ['edge/p1', 'telemetry', { a: 'x\ny' }],
      'the payload as written',
    );
    assert.ok(usual.enqueuedAt > 0);
    assert.deepEqual(
      rawEntryFields(raw[0]!),
      ['a', 'edge/p1', 'm', 'telemetry', 'p', '{"a":"x\\ny"}', 't', String(usual.enqueuedAt)],
      "a dead letter records a flat entry's fields as written",
    );
    assert.equal(decodeRawEntry(raw[1]!).address, 'edge/p2', 'another field order still decodes');
    const refused = raw.slice(2).map(tryDecode);
    assert.deepEqual(
      refused.map((d) => (d.ok ? 'ok' : d.reason)),
      [
        `entry ${badAddress}: missing or invalid actor address`,
        `entry ${newline}: missing or invalid method`,
        `entry ${noPayload}: missing payload`,
      ],
    );
    assert.deepEqual(
      refused[0]!.ok ? [] : refused[0]!.fields,
      ['a', 'edge/p\n3', 'm', 'telemetry', 'p', '3', 't', '7'],
      "a flat entry's dead letter has its fields",
    );

    // Pending entries read again (history after a takeover) come in the same forms.
    const [again] = await bus.readShards({ consumer: 'a', reads: [{ shard: 0, from: '0' }], count: 10 });
    assert.deepEqual(again!.entries, raw);
  });
});
