/**
 * `GET /v1/dead-letters` and the dead-letter metrics, in-process over a real Redis, with dead
 * letters written the way the links write them (the real Ingest step): operator scope, an edge's
 * letters with their count, code and bounded excerpt, pages by cursor, a 400 with the reason for
 * bad queries, and per-code and worst-edge series in `/metrics`.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Ingest } from '../edge/mod.ts';
import { DecodeError } from '../edge/protocol/errors.ts';
import { useRedis } from '../infra/test-redis.ts';
import { createApiKey } from './auth.ts';
import { type Database, openDatabase } from './db/database.ts';
import { createGateway } from './gateway.ts';

const t = useRedis();
const databases: Database[] = [];
after(async () => {
  for (const d of databases) await d.close();
});

interface Page {
  edge: string | null;
  count: number | null;
  next: string | null;
  deadLetters: {
    edgeId: string | null;
    code: string;
    reason: string;
    source: string;
    at: number;
    excerpt: { encoding: string; data: string; bytes: number; sha256: string };
  }[];
}

describe('dead letters in the gateway', { timeout: 60_000 }, () => {
  it('lists an edge’s dead letters with its count, for operators, and counts them in /metrics', async () => {
    const keyspace = t.keyspace();
    const database = await openDatabase();
    databases.push(database);
    await using gateway = await createGateway({ database, bus: t.bus(keyspace, t.connect()) });
    const key = async (scope: 'service' | 'operator') =>
      (await createApiKey(database.db, { name: `${scope}-${keyspace.prefix}`, scope })).key;
    const [service, operator] = [await key('service'), await key('operator')];
    const get = (path: string, bearer?: string) =>
      gateway.app.request(path, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });

    // What the links do with what E-1 and E-2 send wrong.
    const ingest = new Ingest('mqtt', 'mqtt:test', { bus: t.bus(keyspace) });
    const batch = ingest.batch();
    const refuse = (code: DecodeError['code']) => () => {
      throw new DecodeError(code, `refused as ${code}`);
    };
    const big = Buffer.alloc(12_000, 0x61);
    for (let i = 0; i < 7; i++)
      ingest.queue(
        batch,
        { edgeId: 'E-1', source: 'dh/v1/E-1/up/status', position: '-', bytes: big },
        refuse('NOT_JSON'),
      );
    ingest.queue(
      batch,
      { edgeId: 'E-1', source: 'dh/v1/E-1/up/alarm', position: '-', bytes: Buffer.from([1, 2]) },
      () => {
        throw 12n; // not an Error, not even stringifiable as JSON: a bug, dead-lettered as INTERNAL
      },
    );
    ingest.queue(
      batch,
      { edgeId: 'E-2', source: 'dh/v1/E-2/up/alarm', position: '-', bytes: Buffer.from('x') },
      refuse('BAD_HEADER'),
    );
    await ingest.send(batch);
    assert.deepEqual(ingest.stats.deadLettered, { NOT_JSON: 7, INTERNAL: 1, BAD_HEADER: 1 });

    assert.equal((await get('/v1/dead-letters?edge=E-1')).status, 401);
    assert.equal((await get('/v1/dead-letters?edge=E-1', service)).status, 403);
    const first = await get('/v1/dead-letters?edge=E-1&limit=3', operator);
    assert.equal(first.status, 200);
    const page = (await first.json()) as Page;
    assert.equal(page.edge, 'E-1');
    assert.equal(page.count, 8);
    assert.deepEqual(
      page.deadLetters.map((l) => [l.edgeId, l.code]),
      [
        ['E-1', 'INTERNAL'],
        ['E-1', 'NOT_JSON'],
        ['E-1', 'NOT_JSON'],
      ],
    );
    const letter = page.deadLetters[1]!;
    assert.match(letter.reason, /^NOT_JSON: refused as NOT_JSON/);
    assert.equal(letter.source, 'dh/v1/E-1/up/status');
    assert.equal(letter.excerpt.encoding, 'base64');
    assert.equal(Buffer.from(letter.excerpt.data, 'base64').length, 256, 'an excerpt, not the payload');
    assert.equal(letter.excerpt.bytes, 12_000);
    assert.match(letter.excerpt.sha256, /^[0-9a-f]{64}$/);
    assert.ok(page.next, 'there is more');
    // The rest of E-1's, in order, until no cursor.
    const rest = (await (
      await get(`/v1/dead-letters?edge=E-1&limit=100&cursor=${page.next}`, operator)
    ).json()) as Page;
    assert.equal(
      page.deadLetters.length + rest.deadLetters.length,
      (await t.redis.xlen(keyspace.deadLetters)) - 1,
    );
    assert.ok(rest.deadLetters.every((l) => l.edgeId === 'E-1'));
    assert.equal(rest.next, null);
    // Without an edge: everyone's, no count.
    const all = (await (await get('/v1/dead-letters', operator)).json()) as Page;
    assert.equal(all.count, null);
    assert.equal(all.deadLetters[0]?.edgeId, 'E-2');

    for (const bad of [
      'edge=E%201',
      'edge=',
      'cursor=abc',
      'cursor=1-2-3',
      'limit=0',
      'limit=101',
      'limit=x',
      'edge=%00',
    ]) {
      const res = await get(`/v1/dead-letters?${bad}`, operator);
      assert.equal(res.status, 400, bad);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'INVALID_REQUEST', bad);
      assert.ok(body.error.message.length > 0);
    }
    for (const cursor of ['0-0', '18446744073709551615-18446744073709551615']) {
      const res = await get(`/v1/dead-letters?edge=E-1&cursor=${cursor}`, operator);
      assert.equal(res.status, 200, cursor);
    }
    assert.equal((await get('/v1/dead-letters?cursor=18446744073709551616-0', operator)).status, 400);
    const doc = (await (await get('/v1/openapi.json')).json()) as { paths: Record<string, unknown> };
    assert.ok(doc.paths['/v1/dead-letters'], 'documented');

    const metrics = await (await get('/metrics')).text();
    assert.match(metrics, /devicehub_edge_dead_letters_total\{code="NOT_JSON"\} 7/);
    assert.match(metrics, /devicehub_edge_dead_letters_total\{code="INTERNAL"\} 1/);
    assert.match(metrics, /devicehub_edge_dead_letters_top\{edge="E-1"\} 8/);
    assert.match(metrics, /devicehub_dead_letter_edges 2/);
    // Stored within the budget or counted over it: every one either way.
    const unstored = Number(/devicehub_edge_dead_letters_unstored_total (\d+)/.exec(metrics)?.[1]);
    assert.equal(unstored + (await t.redis.xlen(keyspace.deadLetters)), 9);
  });
});
