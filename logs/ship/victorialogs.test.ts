/**
 * The log shipper against a real VictoriaLogs (infra/victorialogs.ts): the store killed -9 right
 * after it acknowledged 1,000 lines and while 5,000 more are pushed, restarted, and every line
 * queryable (0 lost: the acknowledged ones it lost are sent again); past the disk
 * bound the drops counted exactly (shipped + dropped = pushed, the store holds the shipped);
 * 100 000 lines pushed with the event loop's delay measured and reported.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, test } from 'node:test';
import { startVictoriaLogs, waitFor } from '../../infra/mod.ts';
import { type LogRecord, type LogStore, openLogStore } from '../mod.ts';
import { openLogShipper } from './mod.ts';

const tempDir = () => mkdtempSync(join(tmpdir(), 'dh-logship-vl-'));
const FAST = { flushMs: 50, backoff: { minMs: 20, maxMs: 200 }, writeTimeoutMs: 2000 };

/** The distinct `i` of every stored line of `service` in [from, to] (all pages), and the line count. */
async function storedIndexes(store: LogStore, service: string, from: number, to: number) {
  const seen = new Set<number>();
  let lines = 0;
  let cursor: string | undefined;
  do {
    const page = await store.query({ from, to, service, limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const r of page.records) {
      seen.add(Number(r.fields?.i));
      lines++;
    }
    cursor = page.next;
  } while (cursor !== undefined);
  return { seen, lines };
}

const line = (service: string, i: number, t0: number): LogRecord => ({
  time: t0 + i,
  level: i % 10 === 0 ? 'warn' : 'info',
  msg: `shipped line ${i}`,
  service,
  nodeId: 'ship-test',
  fields: { i },
});

describe('log shipper → VictoriaLogs', { timeout: 120_000 }, () => {
  test('the store killed -9 while 5,000 lines are pushed: after its restart all are queryable, 0 lost', async (t) => {
    await using vl = await startVictoriaLogs();
    await using store = openLogStore(vl.url);
    const dir = tempDir();
    const service = `ship-${process.pid}-a`;
    const t0 = Date.now();
    await using shipper = openLogShipper({ store, dir, maxBufferBytes: 64 << 20, batchLines: 500, ...FAST });
    for (let i = 0; i < 1000; i++) shipper.push(line(service, i, t0));
    await shipper.flush();
    assert.equal(shipper.stats().shipped, 1000, 'the store up: shipped directly');
    await vl.kill();
    for (let i = 1000; i < 6000; i++) {
      shipper.push(line(service, i, t0));
      if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await shipper.flush();
    const away = shipper.stats();
    t.diagnostic(`store away: ${JSON.stringify(away)}`);
    assert.equal(away.storeUp, false);
    // VictoriaLogs acknowledges rows it still holds in memory (-inmemoryDataFlushInterval, 5 s):
    // the 1,000 it took just before its kill -9 are queued again (holdMs), at their place.
    assert.equal(away.resent, 1000, 'the lines acknowledged just before the kill are sent again');
    assert.equal(away.queued, 6000, 'those and every line pushed while away wait on disk');
    assert.ok(away.bufferedBytes > 0);
    await vl.restart();
    await waitFor(() => shipper.stats().queued === 0, {
      timeoutMs: 60_000,
      message: 'the disk buffer replayed',
    });
    const s = shipper.stats();
    assert.equal(s.shipped, 6000 + s.resent);
    assert.equal(s.dropped, 0);
    assert.equal(s.bufferedBytes, 0);
    const stored = await waitFor(
      async () => {
        const got = await storedIndexes(store, service, t0 - 1000, t0 + 10_000);
        return got.seen.size === 6000 ? got : undefined;
      },
      { timeoutMs: 30_000, message: 'all 6,000 lines queryable' },
    );
    // At least once: what the store had kept of the 1,000 is there twice.
    t.diagnostic(`stored ${stored.lines} lines, 6,000 distinct (duplicates: ${stored.lines - 6000})`);
    assert.deepEqual(
      [...stored.seen].sort((a, b) => a - b),
      Array.from({ length: 6000 }, (_, i) => i),
    );
    assert.ok(stored.lines - 6000 <= 1000, 'duplicates only among the lines sent again');
  });

  test('past the disk bound: the newest lines dropped, counted exactly', async () => {
    await using vl = await startVictoriaLogs();
    await using store = openLogStore(vl.url);
    const service = `ship-${process.pid}-b`;
    const t0 = Date.now();
    await using shipper = openLogShipper({
      store,
      dir: tempDir(),
      maxBufferBytes: 100_000,
      batchLines: 200,
      ...FAST,
    });
    await vl.stop();
    for (let i = 0; i < 3000; i++) shipper.push(line(service, i, t0));
    await shipper.flush();
    const full = shipper.stats();
    assert.ok(full.dropped > 0 && full.bufferedBytes <= 100_000, JSON.stringify(full));
    await vl.restart();
    await waitFor(() => shipper.stats().queued === 0, {
      timeoutMs: 60_000,
      message: 'the disk buffer replayed',
    });
    const s = shipper.stats();
    assert.equal(s.shipped + s.dropped, 3000, JSON.stringify(s));
    const stored = await waitFor(
      async () => {
        const got = await storedIndexes(store, service, t0 - 1000, t0 + 10_000);
        return got.seen.size === s.shipped ? got : undefined;
      },
      { timeoutMs: 30_000, message: `the ${s.shipped} shipped lines queryable` },
    );
    assert.deepEqual(
      [...stored.seen].sort((a, b) => a - b),
      Array.from({ length: s.shipped }, (_, i) => i),
      'the oldest kept',
    );
  });

  test('100,000 lines pushed: the event loop keeps turning (its delay measured)', async (t) => {
    await using vl = await startVictoriaLogs();
    await using store = openLogStore(vl.url);
    const service = `ship-${process.pid}-c`;
    await using shipper = openLogShipper({ store, dir: tempDir(), maxBufferBytes: 256 << 20, ...FAST });
    const t0 = Date.now();
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    // As a busy process logs: a thousand lines a turn, the loop free between turns.
    for (let i = 0; i < 100_000; i++) {
      shipper.push(line(service, i, t0));
      if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
    }
    const pushedMs = Date.now() - t0;
    await shipper.flush();
    await waitFor(() => shipper.stats().queued === 0, { timeoutMs: 60_000, message: 'all shipped' });
    delay.disable();
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    t.diagnostic(
      `100k lines: pushed in ${pushedMs} ms, shipped in ${Date.now() - t0} ms; event loop delay ` +
        `p50 ${ms(delay.percentile(50))} ms, p99 ${ms(delay.percentile(99))} ms, max ${ms(delay.max)} ms; ` +
        JSON.stringify(shipper.stats()),
    );
    assert.equal(shipper.stats().shipped, 100_000);
    assert.ok(delay.count > 0 && Number.isFinite(delay.max), 'the delay was measured');
  });
});
