/**
 * `GET /v1/logs` and the tail `/v1/logs/tail` over a store that can be made to fail and to
 * flood on cue (testdata/fake-log-store.ts; the real VictoriaLogs is logs-victorialogs.test.ts):
 * operator scope, a 400 naming the field for each bad value, a 503 with the reason without a store
 * or with one that fails, the query the store is asked; the tail authenticated like /v1/events,
 * filtered, a slow client's lines dropped and counted (never buffered past the bound), the store's
 * tail aborted when the client leaves.
 */
// Redis Cluster pass: once (what this tests is the logs' HTTP and WebSocket layer; its Redis use is incidental).
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import WebSocket from 'ws';
import { waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { type LogRecord, LogStoreError } from '../../logs/mod.ts';
import { createApiKey } from '../auth.ts';
import { openDatabase } from '../db/database.ts';
import { createGateway, serveGateway } from '../gateway.ts';
import { FakeLogStore } from './testdata/fake-log-store.ts';

const t = useRedis();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** What the tests read of an answer: a page, or an error. */
interface Answer {
  readonly from: number;
  readonly to: number;
  readonly records: LogRecord[];
  readonly next: string | null;
  readonly error: { readonly message: string };
}

/** One database and two served gateways for the file (a gateway's start is the slow part): with the store and without. */
async function startGateways() {
  const database = await openDatabase();
  const store = new FakeLogStore();
  const serve = async (logs: FakeLogStore | undefined) => {
    const gateway = await createGateway({
      database,
      bus: t.bus(t.keyspace(), t.connect()),
      ...(logs === undefined ? {} : { logs }),
    });
    const served = await serveGateway(gateway);
    const get = async (path: string, key: string) => {
      const res = await gateway.app.request(path, { headers: { authorization: `Bearer ${key}` } });
      return { status: res.status, body: (await res.json()) as Answer };
    };
    const close = async () => {
      await served.close();
      await gateway.stop();
    };
    return { get, ws: served.url.replace('http', 'ws'), close };
  };
  const withStore = await serve(store);
  const without = await serve(undefined);
  const keys = {
    service: (await createApiKey(database.db, { name: 'svc', scope: 'service' })).key,
    operator: (await createApiKey(database.db, { name: 'op', scope: 'operator' })).key,
  };
  const close = async () => {
    await withStore.close();
    await without.close();
    await database.close();
  };
  return { store, withStore, without, keys, close };
}

let shared: Awaited<ReturnType<typeof startGateways>> | undefined;

/** The shared gateways, the store emptied and working; `get` asks as the operator by default. */
async function start(o: { store?: boolean } = {}) {
  shared ??= await startGateways();
  const { store, keys } = shared;
  store.reset();
  const g = o.store === false ? shared.without : shared.withStore;
  const get = (path: string, key = keys.operator) => g.get(path, key);
  return { store, keys, get, ws: g.ws };
}

/** The HTTP status and body an upgrade is refused with. */
const refusal = (url: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; body: string }>((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('error', () => {});
  });

/** A tail socket with its frames; resolves once `ready` arrived. */
async function tail(url: string, key: string, o: { viaProtocol?: boolean } = {}) {
  const ws = o.viaProtocol
    ? new WebSocket(url, ['devicehub.v1', `bearer.${key}`])
    : new WebSocket(url, { headers: { authorization: `Bearer ${key}` } });
  const frames: { type: string; record?: LogRecord; count?: number; total?: number; message?: string }[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data));
      if (frame.type === 'ready') resolve();
      else frames.push(frame);
    });
    ws.once('error', reject);
  });
  cleanup.push(async () => ws.close());
  return { ws, frames, closed };
}

const line = (over: Partial<LogRecord> = {}): LogRecord => ({
  time: Date.now(),
  level: 'info',
  msg: 'hello',
  service: 'agent',
  edgeId: 'E-1',
  ...over,
});

describe('reading logs', () => {
  // Closed before the file's Redis stops.
  after(async () => {
    await shared?.close();
  });

  describe('GET /v1/logs', { timeout: 60_000 }, () => {
    it('answers 503 with the reason when no log store is configured', async () => {
      const g = await start({ store: false });
      const res = await g.get('/v1/logs');
      assert.equal(res.status, 503);
      assert.match(res.body.error.message, /DEVICEHUB_LOG_STORE/);
      const ws = await refusal(`${g.ws}/v1/logs/tail`, { authorization: `Bearer ${g.keys.operator}` });
      assert.equal(ws.status, 503);
      assert.match(ws.body, /DEVICEHUB_LOG_STORE/);
    });

    it('asks the store for the filters and range, newest first, and pages with its cursor', async () => {
      const g = await start();
      const { store } = g;
      const now = Date.now();
      for (let i = 0; i < 5; i++) store.records.push(line({ time: now - 60_000 + i, msg: `line ${i}` }));
      store.records.push(line({ time: now - 30_000, edgeId: 'E-2', msg: 'other edge' }));
      const from = new Date(now - 120_000).toISOString();
      const first = await g.get(
        `/v1/logs?edge=E-1&service=agent&level=info&q=line&from=${from}&to=${now}&limit=3`,
      );
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.deepEqual(
        first.body.records.map((r: LogRecord) => r.msg),
        ['line 4', 'line 3', 'line 2'],
      );
      assert.deepEqual(store.queries[0], {
        edgeId: 'E-1',
        service: 'agent',
        level: 'info',
        text: 'line',
        from: now - 120_000,
        to: now,
        limit: 3,
      });
      assert.equal(first.body.from, now - 120_000);
      assert.equal(typeof first.body.next, 'string');
      const second = await g.get(
        `/v1/logs?edge=E-1&from=${from}&to=${now}&limit=3&cursor=${first.body.next}`,
      );
      assert.deepEqual(
        second.body.records.map((r: LogRecord) => r.msg),
        ['line 1', 'line 0'],
      );
      assert.equal(second.body.next, null);
      // Without a range: the last hour, up to now.
      const recent = await g.get('/v1/logs');
      assert.equal(recent.body.to - recent.body.from, 3600_000);
      assert.ok(Math.abs(recent.body.to - Date.now()) < 60_000);
    });

    it('refuses a bad value with a 400 naming its field, and keys below operator', async () => {
      const g = await start();
      const { store } = g;
      const day = 86_400_000;
      const now = Date.now();
      const bad: [string, RegExp][] = [
        [`from=${now - 32 * day}&to=${now}`, /^from: .*32 days, at most 31/],
        [`from=${now - 40 * day}`, /^from: .*at most 31/],
        [`from=${now}&to=${now - 1000}`, /^from: must not be after to/],
        ['from=yesterday', /^from: an ISO 8601 time/],
        ['to=2026-13-45T99:00:00Z', /^to: /],
        ['level=verbose', /^level: /],
        ['limit=1001', /^limit: /],
        ['limit=0', /^limit: /],
        ['cursor=not%20a%20cursor', /^cursor: not a cursor/],
        ['edge=a%2Fb', /^edge: /],
        ['service=%00', /^service: /],
        [`q=${'x'.repeat(257)}`, /^q: /],
      ];
      for (const [query, message] of bad) {
        const res = await g.get(`/v1/logs?${query}`);
        assert.equal(res.status, 400, query);
        assert.match(res.body.error.message, message, query);
      }
      assert.equal(store.queries.length, 0, 'none of them reached the store');
      // A cursor of the right shape that the store cannot read: the store's 400.
      const unreadable = await g.get('/v1/logs?cursor=abc');
      assert.equal(unreadable.status, 400);
      assert.match(unreadable.body.error.message, /cursor/);
      // 31 days exactly is fine.
      assert.equal((await g.get(`/v1/logs?from=${now - 31 * day}&to=${now}`)).status, 200);
      assert.equal((await g.get('/v1/logs', g.keys.service)).status, 403);
      assert.equal((await g.get('/v1/logs', 'dhk_nope')).status, 401);
    });

    it('answers 503 with the store’s reason when it cannot be reached', async () => {
      const g = await start();
      const { store } = g;
      store.failWith(new LogStoreError('UNREACHABLE', 'connect ECONNREFUSED 127.0.0.1:9428'));
      const res = await g.get('/v1/logs');
      assert.equal(res.status, 503);
      assert.match(res.body.error.message, /unavailable: connect ECONNREFUSED 127\.0\.0\.1:9428/);
    });
  });

  describe('the log tail /v1/logs/tail', { timeout: 60_000 }, () => {
    it('is authenticated like /v1/events, operator scope, and refuses a bad filter naming it', async () => {
      const g = await start();
      const { store } = g;
      const url = `${g.ws}/v1/logs/tail`;
      assert.equal((await refusal(url)).status, 401);
      assert.equal((await refusal(url, { authorization: 'Bearer dhk_nope' })).status, 401);
      const service = await refusal(url, { authorization: `Bearer ${g.keys.service}` });
      assert.equal(service.status, 403);
      assert.match(service.body, /needs scope operator/);
      const level = await refusal(`${url}?level=loud`, { authorization: `Bearer ${g.keys.operator}` });
      assert.equal(level.status, 400);
      assert.match(level.body, /"message":"level: /);
      assert.equal(store.tails.length, 0);
    });

    it('streams matching lines as they arrive, and aborts the store’s tail when the client leaves', async () => {
      const g = await start();
      const { store } = g;
      const client = await tail(`${g.ws}/v1/logs/tail?edge=E-1&level=warn&q=disk`, g.keys.operator, {
        viaProtocol: true,
      });
      assert.deepEqual(store.tails[0]?.filter, { edgeId: 'E-1', level: 'warn', text: 'disk' });
      store.emit(line({ level: 'info', msg: 'disk fine' }));
      store.emit(line({ level: 'error', msg: 'disk full', edgeId: 'E-2' }));
      store.emit(line({ level: 'error', msg: 'disk full' }));
      await waitFor(() => client.frames.length === 1, { message: 'the matching line' });
      assert.equal(client.frames[0]?.type, 'line');
      assert.equal(client.frames[0]?.record?.msg, 'disk full');
      assert.equal(client.frames[0]?.record?.edgeId, 'E-1');
      client.ws.close();
      await waitFor(() => store.tails[0]?.aborted === true, { message: 'the store’s tail aborted' });
    });

    it('drops and counts lines for a client that does not read, and tells it once it catches up', async (test) => {
      const g = await start();
      const { store } = g;
      const client = await tail(`${g.ws}/v1/logs/tail`, g.keys.operator);
      client.ws.pause();
      // 4000 lines of 8 KiB: 32 MiB, far more than the bound and the sockets' buffers together.
      const sent = 4000;
      const msg = 'x'.repeat(8192);
      for (let i = 0; i < sent; i++) store.emit(line({ msg, fields: { i } }));
      await waitFor(() => store.tails[0]?.queue.length === 0, { message: 'the gateway read every line' });
      client.ws.resume();
      await waitFor(() => client.frames.some((f) => f.type === 'dropped'), { message: 'the notice' });
      const count = (type: string) => client.frames.filter((f) => f.type === type);
      const dropped = () => count('dropped').reduce((n, f) => n + (f.count ?? 0), 0);
      // Every line is either received or counted, and most were not queued for the slow client.
      await waitFor(() => count('line').length + dropped() === sent, {
        message: 'every line received or counted',
      });
      assert.ok(dropped() > 0, 'lines were dropped');
      assert.equal(count('dropped').at(-1)?.total, dropped());
      const received = count('line').length;
      test.diagnostic(
        `${sent} lines of 8 KiB: ${received} sent to the paused client, ${dropped()} dropped, ${count('dropped').length} notices`,
      );
      assert.ok(received < sent / 2, `${received} of ${sent} lines were queued for a client that read none`);
      // Lines after the notice flow again.
      store.emit(line({ msg: 'after' }));
      await waitFor(() => client.frames.at(-1)?.record?.msg === 'after', {
        message: 'a line after the drops',
      });
    });

    it('ends with an error frame and 1011 when the store fails mid-tail', async () => {
      const g = await start();
      const { store } = g;
      const client = await tail(`${g.ws}/v1/logs/tail`, g.keys.operator);
      await waitFor(() => store.tails.length === 1, { message: 'the store’s tail' });
      store.failWith(new LogStoreError('UNREACHABLE', 'connect ECONNREFUSED'));
      const { code } = await client.closed;
      assert.equal(code, 1011);
      assert.match(client.frames.at(-1)?.message ?? '', /unavailable: connect ECONNREFUSED/);
    });
  });
});
