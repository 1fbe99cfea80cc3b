/** pino JSON lines as LogRecords; the buffer folder's slots; the shipper's prom-client families. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import {
  claimBufferDir,
  type LogShipperStats,
  pinoLevel,
  pinoLineToRecord,
  registerLogShipperMetrics,
  releaseBufferDir,
} from './mod.ts';

describe('pinoLineToRecord', () => {
  test('levels, lifted fields, flat fields, normalised text', () => {
    const err = new Error('boom');
    const line = JSON.stringify({
      level: 50,
      time: 1_700_000_000_123,
      pid: 42,
      service: 'node',
      host: 'hub-1',
      nodeId: 'n1',
      edgeId: 'E-7',
      tunnelId: 't-9',
      shard: 12,
      ok: false,
      err: { type: 'Error', message: err.message, stack: 'Error: boom\n    at x (y.ts:1:1)' },
      tags: ['a', 'b'],
      msg: 'turn failed\u0000\nsecond line',
    });
    assert.deepEqual(pinoLineToRecord(line), {
      time: 1_700_000_000_123,
      level: 'error',
      msg: 'turn failed\\x00\\x0asecond line',
      service: 'node',
      host: 'hub-1',
      nodeId: 'n1',
      edgeId: 'E-7',
      tunnelId: 't-9',
      fields: {
        pid: 42,
        shard: 12,
        ok: false,
        'err.type': 'Error',
        'err.message': 'boom',
        'err.stack': 'Error: boom\\x0a    at x (y.ts:1:1)',
        tags: '["a","b"]',
      },
    });
  });

  test('level numbers to names, a line without service or msg, not JSON', () => {
    assert.deepEqual(
      [10, 20, 30, 40, 50, 60, 35, 5].map((n) => pinoLevel(n)),
      ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'info', 'info'],
    );
    assert.equal(pinoLevel('warn'), 'warn');
    assert.deepEqual(pinoLineToRecord('{"level":30,"time":5}', 'link-mqtt'), {
      time: 5,
      level: 'info',
      msg: '',
      service: 'link-mqtt',
    });
    assert.equal(pinoLineToRecord('not json'), undefined);
    assert.equal(pinoLineToRecord('[1,2]'), undefined);
  });

  test('a long message is cut and marked', () => {
    const r = pinoLineToRecord(JSON.stringify({ level: 30, time: 1, msg: 'x'.repeat(20_000) }));
    assert.ok(r !== undefined && Buffer.byteLength(r.msg) <= 8192);
    assert.match(r?.msg ?? '', /…\[cut \d+ bytes\]$/);
  });
});

describe('claimBufferDir', () => {
  test('one slot per live process; a dead owner’s slot is taken over with its files', () => {
    const base = mkdtempSync(join(tmpdir(), 'dh-logdir-'));
    const a = claimBufferDir(base, 'node');
    const b = claimBufferDir(base, 'node');
    assert.equal(a, join(base, 'node-1'));
    assert.equal(b, join(base, 'node-2'));
    assert.equal(readFileSync(join(a, 'owner'), 'utf8'), String(process.pid));
    releaseBufferDir(a);
    assert.equal(existsSync(join(a, 'owner')), false);
    // node-1 is held by a process that is gone (pid 2^22 + 1 is past Linux's pid_max).
    const c = join(base, 'node-1');
    writeFileSync(join(c, '0000000000000001-1.ndjson'), '{}\n');
    writeFileSync(join(c, 'owner'), String(4_194_305));
    assert.equal(claimBufferDir(base, 'node'), c);
    assert.ok(existsSync(join(c, '0000000000000001-1.ndjson')), 'its buffered lines stay for replay');
    assert.throws(() => claimBufferDir(base, '../x'), /name must be 1-64/);
  });
});

describe('registerLogShipperMetrics', () => {
  test('the shipper’s families in a prom-client registry, nothing while it does not ship', async () => {
    const registry = new Registry();
    let stats: LogShipperStats | undefined;
    registerLogShipperMetrics(registry, () => stats);
    assert.doesNotMatch(await registry.metrics(), /devicehub_log_lines_total\{/);
    stats = {
      queued: 3,
      shipped: 10,
      dropped: 2,
      buffered: 5,
      resent: 1,
      bufferedBytes: 700,
      storeUp: false,
    };
    const text = await registry.metrics();
    assert.match(text, /devicehub_log_lines_total\{outcome="shipped"\} 10\n/);
    assert.match(text, /devicehub_log_lines_total\{outcome="dropped"\} 2\n/);
    assert.match(text, /devicehub_log_lines_total\{outcome="buffered"\} 5\n/);
    assert.match(text, /devicehub_log_lines_total\{outcome="resent"\} 1\n/);
    assert.match(text, /devicehub_log_buffer_bytes 700\n/);
    assert.match(text, /devicehub_log_queued_lines 3\n/);
    assert.match(text, /devicehub_log_store_up 0\n/);
  });
});
