/**
 * The link's one boundary (Ingest.queue) against a real Redis: a message whose decoding or entry
 * encoding fails in a way no decoder should (a BigInt payload, a payload past the 64 KiB entry
 * limit, a stack overflow, a thrown non-Error) is dead-lettered as INTERNAL on its own, and the
 * valid messages of other edges in the same batch are all enqueued (39 of 40 were lost before).
 * A full status enters its mailbox packed (decision 068), a compact agent's partial one as the object.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeEntry, readDeadLetters } from '../../bus/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { decodeCompact } from '../mod.ts';
import {
  decodeLegacy,
  encodeCompact,
  type HubMessage,
  legacyStatus,
  PACKED_STATUS,
} from '../protocol/mod.ts';
import { SAMPLE_BIRTH as birth, SAMPLE_STATUS as status } from '../protocol/testdata/samples.ts';
import { Ingest } from './ingest.ts';

const t = useRedis();

describe('Ingest', () => {
  it('dead-letters a message that fails the link itself, and enqueues its neighbours', async () => {
    const keyspace = t.keyspace();
    const ingest = new Ingest('mqtt', 'mqtt:test', { bus: t.bus(keyspace, t.connect()) });
    const batch = ingest.batch();
    const bug = (payload: unknown) => (): HubMessage[] => [
      { method: 'commandResult', payload: payload as HubMessage['payload'] & { id: string; ok: boolean } },
    ];
    const deep = (): HubMessage[] => {
      const recurse = (n: number): number => recurse(n + 1) + 1;
      return [{ method: 'telemetry', payload: { kind: 'status', data: { floor: recurse(0) } } }];
    };
    const poison: (() => HubMessage[])[] = [
      bug({ id: 'c', ok: true, result: 2n ** 64n }),
      bug({ id: 'c', ok: true, result: 'x'.repeat(70_000) }),
      deep,
      () => {
        throw { toString: () => 'no' };
      },
    ];
    const message = (edgeId: string, seq: number) => ({
      edgeId,
      source: `dh/v1/${edgeId}/up/alarm`,
      position: '-',
      bytes: encodeCompact({ kind: 'alarm', seq, ts: seq, alarm: 'smoke', phase: 'start', floor: 1 }),
    });
    let added = 0;
    for (let i = 0; i < 40; i++) {
      if (i % 10 === 5) ingest.queue(batch, message('E-bad', i), poison[(i - 5) / 10]!);
      added += ingest.queue(batch, message(`E-${i}`, i + 1), (bytes) => decodeCompact(bytes));
    }
    await ingest.send(batch);
    assert.equal(added, 40);
    assert.deepEqual(ingest.stats, { received: 44, enqueued: 40, deadLettered: { INTERNAL: 4 } });
    let entries = 0;
    for (let s = 0; s < keyspace.shards; s++) entries += await t.redis.xlen(keyspace.shard(s).mailbox);
    assert.equal(entries, 40, 'every neighbour reached its mailbox');
    const letters = await readDeadLetters(t.bus(keyspace));
    assert.deepEqual(
      letters.map((l) => [l.address, l.code]),
      Array(4).fill(['edge/E-bad', 'INTERNAL']),
    );
    assert.match(letters.map((l) => l.reason).join('\n'), /BigInt/);
    assert.match(letters.map((l) => l.reason).join('\n'), /Maximum call stack/);
  });

  it('enqueues a full status packed, and a partial one as the object', async () => {
    const keyspace = t.keyspace();
    const ingest = new Ingest('mqtt', 'mqtt:test', { bus: t.bus(keyspace, t.connect()) });
    const batch = ingest.batch();
    const message = (edgeId: string, bytes: Uint8Array) => ({ edgeId, source: 'test', position: '-', bytes });
    const legacy = new TextEncoder().encode(legacyStatus({ edgeId: 'E-legacy', ts: 5_000, status, birth }));
    const compact = encodeCompact({
      kind: 'status',
      seq: 1,
      ts: 5_000,
      snapshot: false,
      status: { floor: 8 },
    });
    ingest.queue(batch, message('E-legacy', legacy), decodeLegacy);
    ingest.queue(batch, message('E-compact', compact), (bytes) => decodeCompact(bytes));
    await ingest.send(batch);
    const payloadOf = async (edgeId: string) => {
      const mailbox = keyspace.shard(keyspace.shardOf(`edge/${edgeId}`)).mailbox;
      const [id, fields] = ((await t.redis.xrange(mailbox, '-', '+')) as [string, string[]][])[0]!;
      return decodeEntry(id, fields).payload;
    };
    const packed = (await payloadOf('E-legacy')) as unknown[];
    assert.ok(Array.isArray(packed) && packed[0] === PACKED_STATUS, JSON.stringify(packed));
    assert.deepEqual(packed[5], Object.values(status));
    assert.deepEqual(await payloadOf('E-compact'), {
      kind: 'status',
      seq: 1,
      ts: 5_000,
      data: { floor: 8 },
      via: 'mqtt',
    });
  });
});
