/**
 * `GET /v1/logs` and `/v1/logs/tail` over a real VictoriaLogs (infra/victorialogs.ts): lines
 * written to the store come back through the API filtered by edge, service, level and words,
 * newest first, page by page with the store's cursor and without repeats; a forged cursor is a
 * 400 naming it; a tail sees a new matching line and not the others; the store down is a 503 with
 * the reason, and a tail open then ends with an error frame.
 */
// Redis Cluster pass: once (what this tests is the logs API over a real log store; its Redis use is incidental).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { startVictoriaLogs, type VictoriaLogsServer, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { type LogRecord, type LogStore, openLogStore } from '../../logs/mod.ts';
import { createApiKey } from '../auth.ts';
import { type Database, openDatabase } from '../db/database.ts';
import { createGateway, type Gateway, type ServedGateway, serveGateway } from '../gateway.ts';

interface Answer {
  readonly records: LogRecord[];
  readonly next: string | null;
  readonly error: { readonly message: string };
}

const t = useRedis();
let server: VictoriaLogsServer;
let store: LogStore;
let database: Database;
let gateway: Gateway;
let served: ServedGateway;
let key: string;

describe('reading logs from VictoriaLogs', { timeout: 90_000 }, () => {
  before(async () => {
    server = await startVictoriaLogs({ retention: '2d' });
    store = openLogStore(server.url, { tailDelayMs: 1_000, tailRefreshMs: 200, timeoutMs: 5_000 });
    database = await openDatabase();
    gateway = await createGateway({ database, bus: t.bus(t.keyspace(), t.connect()), logs: store });
    served = await serveGateway(gateway);
    key = (await createApiKey(database.db, { name: 'op', scope: 'operator' })).key;
  });
  after(async () => {
    await served?.close();
    await gateway?.stop();
    await database?.close();
    await store?.[Symbol.asyncDispose]();
    await server?.stop();
  });

  const get = async (path: string) => {
    const res = await gateway.app.request(path, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, body: (await res.json()) as Answer };
  };

  it('finds written lines by edge, service, level and words, newest first, a page at a time', async () => {
    const edge = `E-${randomUUID().slice(0, 8)}`;
    const now = Date.now();
    const levels = ['debug', 'info', 'warn', 'error'] as const;
    await store.write(
      Array.from({ length: 12 }, (_, i) => ({
        time: now - 60_000 + i * 1000,
        level: levels[i % 4] ?? 'info',
        msg: i % 3 === 0 ? `camera timeout after ${i} s` : `frame ${i} ok`,
        service: i % 2 === 0 ? 'elenet' : 'agent',
        edgeId: edge,
        fields: { i },
      })),
    );
    await store.write([
      {
        time: now - 30_000,
        level: 'error',
        msg: 'camera timeout elsewhere',
        service: 'elenet',
        edgeId: 'E-other',
      },
    ]);
    const range = `from=${now - 120_000}&to=${now + 1000}`;
    const all = await waitFor(
      async () => {
        const { body } = await get(`/v1/logs?edge=${edge}&${range}&limit=1000`);
        return body.records?.length === 12 && body.records;
      },
      { message: 'the 12 lines queryable' },
    );
    assert.deepEqual(
      all.map((r) => Number(r.fields?.i)),
      [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
      'newest first',
    );
    // Of the timeouts (0, 3, 6, 9) elenet's are the even ones, 0 (debug) and 6 (warn): warn or worse is 6.
    const filtered = await get(`/v1/logs?edge=${edge}&service=elenet&level=warn&q=camera%20timeout&${range}`);
    assert.equal(filtered.status, 200);
    assert.deepEqual(
      filtered.body.records.map((r) => [Number(r.fields?.i), r.level, r.service]),
      [[6, 'warn', 'elenet']],
    );
    // Pages of 5: every line once, in order.
    const seen: unknown[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: Answer } = await get(
        `/v1/logs?edge=${edge}&${range}&limit=5${cursor === null ? '' : `&cursor=${cursor}`}`,
      );
      seen.push(...page.body.records.map((r) => Number(r.fields?.i)));
      cursor = page.body.next;
    } while (cursor !== null);
    assert.deepEqual(seen, [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    // A cursor of the right shape that the store never handed out.
    const forged = Buffer.from(JSON.stringify(['2026-01-01T00:00:00Z OR *', 'a'])).toString('base64url');
    const bad = await get(`/v1/logs?${range}&cursor=${forged}`);
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /cursor/);
  });

  it('tails new matching lines live', async () => {
    const edge = `E-${randomUUID().slice(0, 8)}`;
    const ws = new WebSocket(`${served.url.replace('http', 'ws')}/v1/logs/tail?edge=${edge}&level=warn`, [
      'devicehub.v1',
      `bearer.${key}`,
    ]);
    const lines: LogRecord[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (data) => {
        const frame = JSON.parse(String(data)) as { type: string; record: LogRecord };
        if (frame.type === 'ready') resolve();
        else if (frame.type === 'line') lines.push(frame.record);
      });
      ws.once('error', reject);
    });
    try {
      // Written until one arrives: the tail starts reading a moment after the socket is ready.
      await waitFor(
        async () => {
          await store.write([
            { time: Date.now(), level: 'info', msg: 'quiet', service: 'agent', edgeId: edge },
            { time: Date.now(), level: 'error', msg: 'elenet crashed', service: 'elenet', edgeId: edge },
            { time: Date.now(), level: 'error', msg: 'not this edge', service: 'elenet', edgeId: 'E-other' },
          ]);
          return lines.length > 0;
        },
        { timeoutMs: 20_000, intervalMs: 500, message: 'a tailed line' },
      );
      assert.ok(
        lines.every((r) => r.edgeId === edge && r.msg === 'elenet crashed'),
        JSON.stringify(lines),
      );
    } finally {
      ws.close();
    }
  });

  it('answers 503 with the reason when the store is down, and a tail opened then ends at once', async () => {
    await server.kill();
    try {
      const res = await get('/v1/logs');
      assert.equal(res.status, 503);
      assert.match(res.body.error.message, /^The log store is unavailable: .*unreachable/);
      const ws = new WebSocket(`${served.url.replace('http', 'ws')}/v1/logs/tail`, {
        headers: { authorization: `Bearer ${key}` },
      });
      const frames: { type: string; message?: string }[] = [];
      ws.on('message', (data) => frames.push(JSON.parse(String(data))));
      const code = await new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)));
      assert.equal(code, 1011);
      assert.match(frames.at(-1)?.message ?? '', /unavailable: .*unreachable/);
    } finally {
      await server.restart();
    }
  });
});
