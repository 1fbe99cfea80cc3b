/**
 * The dead-letter stream against a real Redis (and the cluster pass): a bounded excerpt instead
 * of the payload, an edge's byte budget (counted always, stored within it, per edge), counts per
 * edge and per code, and pages newest first with a cursor, filtered by edge.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { useRedis } from '../infra/test-redis.ts';
import {
  deadLetterCount,
  deadLetterEdgeCount,
  deadLetterTotals,
  pageDeadLetters,
  readDeadLetters,
  topDeadLetterEdges,
} from './dead-letter-reads.ts';
import { DEAD_LETTER_EXCERPT_BYTES } from './dead-letters.ts';
import { execOrThrow, openPipeline } from './pipeline.ts';

const t = useRedis();

describe('dead letters', () => {
  it('keep an excerpt, the length and the hash of a payload, never the whole of it', async () => {
    const keyspace = t.keyspace();
    const bytes = Buffer.alloc(1024 * 1024, 7);
    const json = JSON.stringify({ text: 'x'.repeat(70_000) });
    const pipeline = openPipeline(t.redis);
    t.bus(keyspace).queueEdgeDeadLetter(
      pipeline,
      {
        entryId: '-',
        shard: -1,
        address: 'edge/E-1',
        method: 'dh/v1/E-1/up/status',
        payload: bytes,
        code: 'TOO_LARGE',
        reason: 'TOO_LARGE: big',
        node: 'mqtt:l',
      },
      { edge: 'E-1', budget: { bytes: 1_000_000, windowMs: 60_000 } },
    );
    t.bus(keyspace).queueDeadLetter(pipeline, {
      entryId: '1-1',
      shard: 3,
      address: 'edge/E-2',
      method: 'alarm',
      payload: json,
      reason: 'r'.repeat(5000),
      node: 'n1',
    });
    await execOrThrow(pipeline);
    const [text, device] = await readDeadLetters(t.bus(keyspace));
    assert.equal(device!.encoding, 'base64');
    assert.equal(Buffer.from(device!.payload, 'base64').length, DEAD_LETTER_EXCERPT_BYTES);
    assert.equal(device!.bytes, bytes.length);
    assert.equal(device!.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(device!.code, 'TOO_LARGE');
    assert.equal(text!.encoding, 'text');
    assert.equal(text!.payload, json.slice(0, DEAD_LETTER_EXCERPT_BYTES));
    assert.equal(text!.bytes, Buffer.byteLength(json));
    assert.ok(text!.reason.length <= 513, 'the reason is cut');
    const entry = (await t.redis.xrange(keyspace.deadLetters, '-', '+')) as [string, string[]][];
    for (const [, fields] of entry) assert.ok(fields.join('').length < 2000, 'each letter is small');
  });

  it('store an edge’s letters within its byte budget and count all of them, per edge and code', async () => {
    const keyspace = t.keyspace();
    const budget = { bytes: 2000, windowMs: 600_000 };
    const send = async (edge: string, n: number, code = 'NOT_JSON') => {
      const pipeline = openPipeline(t.redis);
      for (let i = 0; i < n; i++)
        t.bus(keyspace).queueEdgeDeadLetter(
          pipeline,
          {
            entryId: '-',
            shard: -1,
            address: `edge/${edge}`,
            method: 'topic',
            payload: Buffer.from(`garbage ${i}`),
            code,
            reason: `${code}: no`,
            node: 'l',
          },
          { edge, budget },
        );
      return (await execOrThrow(pipeline)).map(Number);
    };
    const a = await send('E-a', 50);
    const stored = a.filter((r) => r === 1).length;
    assert.ok(stored > 0 && stored < 50, `stored ${stored} of 50 within 2000 bytes`);
    assert.deepEqual(a.slice(0, stored), Array(stored).fill(1), 'the first ones are stored');
    // Another edge has its own budget: E-a's flood does not keep E-b's letters out.
    const b = await send('E-b', 3, 'TOO_LARGE');
    assert.deepEqual(b, [1, 1, 1]);
    assert.equal(await deadLetterCount(t.bus(keyspace), 'E-a'), 50);
    assert.equal(await deadLetterCount(t.bus(keyspace), 'E-b'), 3);
    assert.equal(await deadLetterCount(t.bus(keyspace), 'E-none'), 0);
    assert.deepEqual(await deadLetterTotals(t.bus(keyspace)), {
      NOT_JSON: 50,
      TOO_LARGE: 3,
      unstored: 50 - stored,
    });
    assert.deepEqual(await topDeadLetterEdges(t.bus(keyspace), 1), [{ edge: 'E-a', count: 50 }]);
    assert.equal(await deadLetterEdgeCount(t.bus(keyspace)), 2);
    assert.equal(await t.redis.xlen(keyspace.deadLetters), stored + 3);
    assert.ok(
      (await t.redis.pttl(keyspace.deadLetterBudget('E-a'))) > 0,
      'the budget expires with its window',
    );
  });

  it('page newest first with a cursor, optionally one edge’s only', async () => {
    const keyspace = t.keyspace();
    const pipeline = openPipeline(t.redis);
    for (let i = 0; i < 30; i++)
      t.bus(keyspace).queueEdgeDeadLetter(
        pipeline,
        {
          entryId: String(i),
          shard: -1,
          address: `edge/E-${i % 3}`,
          method: 'topic',
          payload: Buffer.from([i]),
          code: 'BAD_HEADER',
          reason: `BAD_HEADER: ${i}`,
          node: 'l',
        },
        { edge: `E-${i % 3}` },
      );
    await execOrThrow(pipeline);
    const all: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await pageDeadLetters(t.bus(keyspace), { limit: 7, ...(cursor ? { cursor } : {}) });
      assert.ok(page.letters.length <= 7);
      all.push(...page.letters.map((l) => l.entryId));
      cursor = page.next;
    } while (cursor !== undefined);
    assert.deepEqual(
      all,
      Array.from({ length: 30 }, (_, i) => String(29 - i)),
    );
    const first = await pageDeadLetters(t.bus(keyspace), { limit: 4, edge: 'E-1' });
    assert.deepEqual(
      first.letters.map((l) => l.entryId),
      ['28', '25', '22', '19'],
    );
    const rest = await pageDeadLetters(t.bus(keyspace), { limit: 100, edge: 'E-1', cursor: first.next! });
    assert.deepEqual(
      rest.letters.map((l) => l.entryId),
      ['16', '13', '10', '7', '4', '1'],
    );
    assert.equal(rest.next, undefined);
  });
});
