/**
 * The log shipper against a fake store in memory (the real VictoriaLogs: victorialogs.test.ts):
 * batching in order, spilling to disk while the store is away and replaying in order, the disk
 * bound with exact drop counts (the newest dropped), a restart replaying what the last run left,
 * a malformed batch dropped instead of blocking the queue, push after close.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { waitFor } from '../../infra/wait-for.ts';
import { type LogRecord, type LogStore, LogStoreError } from '../mod.ts';
import { type LogShipper, type LogShipperOptions, logShipperMetricsText, openLogShipper } from './mod.ts';

interface FakeStore extends LogStore {
  readonly records: LogRecord[];
  readonly writes: number[];
  down: boolean;
  /** Throw this instead (once per write) while set. */
  refuse?: Error;
  /** While set, a write waits for it. */
  gate?: Promise<void>;
}

function fakeStore(): FakeStore {
  const store: FakeStore = {
    kind: 'fake',
    records: [],
    writes: [],
    down: false,
    async write(records, signal) {
      await Promise.resolve();
      if (store.gate !== undefined)
        await Promise.race([
          store.gate,
          new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason))),
        ]);
      if (store.refuse !== undefined) throw store.refuse;
      if (store.down) throw new LogStoreError('UNREACHABLE', 'fake store is down');
      store.records.push(...records.map((r) => structuredClone(r)));
      store.writes.push(records.length);
    },
    async query() {
      return { records: [] };
    },
    async *tail() {},
    async [Symbol.asyncDispose]() {},
  };
  return store;
}

const record = (i: number): LogRecord => ({
  time: 1_700_000_000_000 + i,
  level: 'info',
  msg: `line ${i}`,
  service: 'test',
  fields: { i },
});

const tempDir = () => mkdtempSync(join(tmpdir(), 'dh-logship-'));
const FAST = { backoff: { minMs: 5, maxMs: 20 }, flushMs: 20 };

/** A shipper to `store` with a fresh folder, 1 MiB of disk and quick timers, unless `o` says otherwise. */
const open = (store: LogStore, o: Partial<LogShipperOptions> = {}): LogShipper =>
  openLogShipper({ store, dir: tempDir(), maxBufferBytes: 1 << 20, ...FAST, ...o });

/** Pushes record(from) … record(to - 1). */
function pushRange(shipper: LogShipper, from: number, to: number): void {
  for (let i = from; i < to; i++) shipper.push(record(i));
}

/** from … to - 1, the `i` of the records a store should hold. */
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const indexes = (store: FakeStore) => store.records.map((r) => r.fields?.i);

describe('log shipper', () => {
  test('ships batches of batchLines, in order, and flush waits for the rest', async () => {
    const store = fakeStore();
    await using shipper = open(store, { batchLines: 100 });
    pushRange(shipper, 0, 250);
    await shipper.flush();
    assert.deepEqual(indexes(store), range(0, 250));
    assert.deepEqual(store.writes, [100, 100, 50], 'two full batches, the rest sealed by flush');
    assert.deepEqual(shipper.stats(), {
      queued: 0,
      shipped: 250,
      dropped: 0,
      buffered: 0,
      resent: 0,
      bufferedBytes: 0,
      storeUp: true,
    });
  });

  test('the store away: lines wait on disk and are replayed in order when it is back', async () => {
    const store = fakeStore();
    const dir = tempDir();
    await using shipper = open(store, { dir, batchLines: 50 });
    store.down = true;
    pushRange(shipper, 0, 1000);
    await shipper.flush();
    const during = shipper.stats();
    assert.equal(during.storeUp, false);
    assert.equal(during.queued, 1000);
    assert.equal(during.buffered, 1000);
    assert.ok(during.bufferedBytes > 1000 * 20, `bufferedBytes ${during.bufferedBytes}`);
    assert.equal(readdirSync(dir).length, 20, 'one file per batch');
    assert.match(logShipperMetricsText(during), /devicehub_log_lines_total\{outcome="buffered"\} 1000\n/);
    assert.match(logShipperMetricsText(during), /devicehub_log_store_up 0\n/);
    pushRange(shipper, 1000, 1100); // while away: behind the others
    store.down = false;
    // Shipped counts at the store's answer; the file goes right after (queued counts it until then).
    await waitFor(() => shipper.stats().shipped === 1100 && shipper.stats().queued === 0, {
      message: 'all 1100 shipped, their files deleted',
    });
    assert.deepEqual(indexes(store), range(0, 1100));
    assert.deepEqual(readdirSync(dir), [], 'acknowledged files are deleted');
    const after = shipper.stats();
    assert.equal(after.bufferedBytes, 0);
    assert.equal(after.queued, 0);
    assert.equal(after.dropped, 0);
    assert.ok(
      store.writes.every((n) => n <= 50),
      `replayed writes hold at most batchLines: ${store.writes}`,
    );
  });

  test('past maxBufferBytes the newest lines are dropped, counted exactly', async () => {
    const store = fakeStore();
    const maxBufferBytes = 20_000;
    await using shipper = open(store, { maxBufferBytes, batchLines: 100 });
    store.down = true;
    pushRange(shipper, 0, 2000);
    await shipper.flush();
    const full = shipper.stats();
    assert.ok(full.dropped > 0, 'some lines were dropped');
    assert.ok(full.bufferedBytes <= maxBufferBytes, `${full.bufferedBytes} ≤ ${maxBufferBytes}`);
    assert.equal(full.buffered + full.dropped, 2000);
    store.down = false;
    await shipper.flush();
    await waitFor(() => shipper.stats().queued === 0, { message: 'buffer drained' });
    const s = shipper.stats();
    assert.equal(s.shipped + s.dropped, 2000, 'every line shipped or counted as dropped');
    assert.equal(store.records.length, s.shipped);
    assert.deepEqual(indexes(store), range(0, s.shipped), 'the oldest lines were kept, the newest dropped');
    // Room again: new lines get through.
    shipper.push(record(5000));
    await shipper.flush();
    assert.equal(store.records.at(-1)?.fields?.i, 5000);
  });

  test('a new shipper on the same folder replays what the last one left', async () => {
    const store = fakeStore();
    const dir = tempDir();
    store.down = true;
    const first = open(store, { dir, batchLines: 100 });
    pushRange(first, 0, 300);
    await first[Symbol.asyncDispose]();
    assert.equal(first.stats().queued, 300);
    first.push(record(999)); // after close: counted, never thrown
    assert.equal(first.stats().dropped, 1);
    // A write killed mid-way leaves a .tmp: the next run removes it.
    writeFileSync(join(dir, '0000000000000099-1.ndjson.tmp'), '{"half');
    store.down = false;
    await using second = open(store, { dir, batchLines: 100 });
    second.push(record(300));
    await waitFor(() => second.stats().shipped === 301 && second.stats().queued === 0, {
      message: 'replayed and shipped',
    });
    assert.deepEqual(indexes(store), range(0, 301));
    assert.deepEqual(readdirSync(dir), []);
  });

  test('a batch the store refuses as malformed (4xx) is dropped, counted, and the queue moves on', async () => {
    const store = fakeStore();
    await using shipper = open(store, { batchLines: 10 });
    store.refuse = new LogStoreError('REJECTED', 'bad line');
    pushRange(shipper, 0, 10);
    await shipper.flush();
    assert.equal(shipper.stats().dropped, 10);
    store.refuse = Object.assign(new LogStoreError('REJECTED', 'overloaded'), { status: 503 });
    pushRange(shipper, 10, 20);
    await shipper.flush();
    assert.equal(
      shipper.stats().storeUp,
      false,
      'a 5xx (another store may say it as REJECTED with a status) is the store failing: retried',
    );
    store.refuse = undefined;
    await waitFor(() => shipper.stats().shipped === 10, { message: 'the 5xx batch shipped' });
    assert.deepEqual(indexes(store), range(10, 20));
  });

  test('the store crashes right after acknowledging lines it had not kept: they are sent again', async () => {
    const store = fakeStore();
    await using shipper = open(store, { batchLines: 100 });
    pushRange(shipper, 0, 300);
    await shipper.flush();
    assert.equal(store.records.length, 300);
    // A kill -9: what it held in memory (the last 200) is gone, and it is down.
    store.records.splice(100);
    store.down = true;
    pushRange(shipper, 300, 400);
    await shipper.flush();
    assert.equal(shipper.stats().resent, 300, 'the batches acknowledged within holdMs are queued again');
    store.down = false;
    await waitFor(() => shipper.stats().queued === 0, { message: 'all sent again' });
    const got = store.records.map((r) => r.fields?.i as number);
    assert.deepEqual(
      [...new Set(got)].sort((a, b) => a - b),
      range(0, 400),
      'none lost',
    );
    assert.equal(got.length, 500, 'at least once: the 100 it had kept are there twice');
    assert.equal(shipper.stats().shipped, 300 + 400);
  });

  test('a slow store: memory holds a few batches, the rest waits on disk, order kept', async () => {
    const store = fakeStore();
    let openGate = () => {};
    store.gate = new Promise((resolve) => {
      openGate = resolve;
    });
    await using shipper = open(store, { batchLines: 10 });
    await shipper.flush(); // the folder is scanned
    pushRange(shipper, 0, 200);
    // Pushed at once: past 4 batches in memory they spill, and the pump then puts the rest behind them.
    await waitFor(() => shipper.stats().buffered === 200, {
      message: 'every batch spilled behind the first',
    });
    assert.equal(store.records.length, 0, 'the store has taken nothing yet');
    store.gate = undefined;
    openGate();
    await waitFor(() => shipper.stats().shipped === 200, { message: 'all shipped' });
    assert.deepEqual(indexes(store), range(0, 200));
    assert.equal(shipper.stats().storeUp, true, 'slow is not down');
  });

  test('push never throws and never waits, whatever it is given', async () => {
    const store = fakeStore();
    await using shipper = open(store);
    shipper.push(undefined as unknown as LogRecord);
    assert.equal(shipper.stats().dropped, 1);
    assert.equal(shipper.stats().queued, 0);
    assert.throws(
      () => openLogShipper({ store, dir: tempDir(), maxBufferBytes: 0 }),
      /maxBufferBytes must be ≥ 1, got 0/,
    );
  });
});
