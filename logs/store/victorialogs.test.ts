/**
 * The VictoriaLogs store against a real victoria-logs (built by infra/provision.sh, started on a
 * free port): the LogStore contract (log-store.case.ts), and what is VictoriaLogs' own: the
 * retention flag, its errors (down: UNREACHABLE; a refusal: its message).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startVictoriaLogs, type VictoriaLogsServer } from '../../infra/mod.ts';
import { logStoreContract } from './log-store.case.ts';
import { openLogStore } from './open.ts';
import { type LogQuery, type LogRecord, type LogStore, LogStoreError } from './types.ts';

let server: VictoriaLogsServer;
let store: LogStore;
before(async () => {
  server = await startVictoriaLogs({ retention: '2d' });
  store = openLogStore(server.url, { tailDelayMs: 1_000, tailRefreshMs: 200, timeoutMs: 5_000 });
});
after(async () => {
  await store?.[Symbol.asyncDispose]();
  await server?.stop();
});

logStoreContract('VictoriaLogs', { store: () => store, restart: () => server.restart() });

function records(service: string, count: number): LogRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    time: Date.now(),
    level: 'info',
    msg: `line ${i}`,
    service,
  }));
}

function window(service: string, extra: Partial<LogQuery> = {}): LogQuery {
  return { from: Date.now() - 120_000, to: Date.now() + 1_000, service, limit: 1000, ...extra };
}

test('the server runs with the retention it was given', () => {
  assert.ok(server.args.includes('-retentionPeriod=2d'), server.args.join(' '));
  assert.equal(store.kind, 'victorialogs');
});

test('a store that is down is UNREACHABLE; a query it refuses is BAD_QUERY with its message', async () => {
  const down = await startVictoriaLogs({ retention: '1d' });
  const downStore = openLogStore(down.url, { timeoutMs: 5_000 });
  await down.kill();
  const unreachable = (err: unknown) => err instanceof LogStoreError && err.code === 'UNREACHABLE';
  await assert.rejects(downStore.write(records('x', 1)), unreachable);
  await assert.rejects(downStore.query(window('x')), unreachable);
  await assert.rejects(async () => {
    for await (const _ of downStore.tail({}, AbortSignal.timeout(10_000))) break;
  }, unreachable);
  await assert.rejects(
    store.query(window('x', { limit: 5000 })),
    (err: unknown) => err instanceof LogStoreError && err.code === 'BAD_QUERY',
  );
  await assert.rejects(
    store.write([{ time: Number.NaN, level: 'info', msg: 'x', service: 'x' }]),
    (err: unknown) =>
      err instanceof LogStoreError && err.code === 'REJECTED' && /record 0: time/.test(err.message),
  );
  // VictoriaLogs' own refusal (here: a path it does not serve) comes back with its message.
  const wrongPath = openLogStore(`${server.url}/nope`);
  await assert.rejects(
    wrongPath.write(records('x', 1)),
    (err: unknown) =>
      err instanceof LogStoreError && err.code === 'REJECTED' && /unsupported path/.test(err.message),
  );
  await assert.rejects(
    wrongPath.query(window('x')),
    (err: unknown) =>
      err instanceof LogStoreError && err.code === 'BAD_QUERY' && /unsupported path/.test(err.message),
  );
  assert.throws(
    () => openLogStore('ftp://x'),
    (err: unknown) => err instanceof LogStoreError && err.code === 'INVALID_URL',
  );
});
