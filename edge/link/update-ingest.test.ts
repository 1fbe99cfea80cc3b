/**
 * Update states through the link's one boundary (Ingest.queue) against a real Redis: a valid one
 * becomes an `updateState` entry in the edge's mailbox; a malformed one (unknown state, a target
 * that is not a TUF path, progress out of range) is dead-lettered with the field named, alone.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pack } from 'msgpackr';
import { readDeadLetters } from '../../bus/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { decodeCompact, encodeCompact, UplinkKind } from '../protocol/mod.ts';
import { Ingest } from './ingest.ts';

const t = useRedis();

describe('Ingest of update states', () => {
  it('enqueues a valid update state for updateState and dead-letters malformed ones', async () => {
    const keyspace = t.keyspace();
    const ingest = new Ingest('mqtt', 'mqtt:test', { bus: t.bus(keyspace, t.connect()) });
    const batch = ingest.batch();
    const target = 'edge-package/elenet/2.1.0/elenet.bin';
    const message = (bytes: Uint8Array) => ({
      edgeId: 'E-up',
      source: 'dh/v1/E-up/up/update',
      position: '-',
      bytes,
    });
    const good = encodeCompact({
      kind: 'update',
      seq: 1,
      ts: 1,
      rollout: 'r-1',
      target,
      name: 'elenet',
      version: '2.1.0',
      state: 'healthy',
    });
    const header = 0x10 | UplinkKind.update;
    const bad = [
      { q: 2, t: 2, r: 'r-1', g: target, n: 'elenet', v: '2.1.0', s: 9 },
      { q: 3, t: 3, r: 'r-1', g: 'elenet.bin', n: 'elenet', v: '2.1.0', s: 0 },
      { q: 4, t: 4, r: 'r-1', g: target, n: 'elenet', v: '2.1.0', s: 0, p: 1000 },
    ].map((b) => Uint8Array.from([header, ...pack(b)]));
    const decode = (bytes: Uint8Array) => decodeCompact(bytes);
    let added = ingest.queue(batch, message(good), decode);
    for (const b of bad) added += ingest.queue(batch, message(b), decode);
    await ingest.send(batch);
    assert.equal(added, 1);
    assert.deepEqual(ingest.stats, { received: 4, enqueued: 1, deadLettered: { INVALID_FIELD: 3 } });
    const entries: string[] = [];
    for (let s = 0; s < keyspace.shards; s++)
      for (const [, fields] of await t.redis.xrange(keyspace.shard(s).mailbox, '-', '+'))
        entries.push(fields.join(' '));
    assert.equal(entries.length, 1);
    assert.match(entries[0]!, /updateState/);
    assert.match(entries[0]!, /"state":"healthy"/);
    const letters = await readDeadLetters(t.bus(keyspace));
    assert.deepEqual(
      letters.map((l) => l.address),
      ['edge/E-up', 'edge/E-up', 'edge/E-up'],
    );
    const reasons = letters.map((l) => l.reason).join('\n');
    assert.match(reasons, /s \(state\) must be 0\.\.6/);
    assert.match(reasons, /g \(target path\)/);
    assert.match(reasons, /p \(progress %\)/);
  });
});
