import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromRow, randomRids, toRow } from './rows.ts';
import { LogStoreError } from './types.ts';

const record = { time: Date.UTC(2026, 10, 30, 12), level: 'warn' as const, msg: 'm', service: 'link' };

test('a record and its row: own fields by name, clashing ones renamed and read back, values as strings', () => {
  const line = toRow(
    { ...record, edgeId: 'e1', fields: { n: 3, ok: false, service: 'x', _t: 'y' } },
    'abc',
    0,
  );
  const row = JSON.parse(line);
  assert.equal(row._time, '2026-11-30T12:00:00.000Z');
  assert.equal(row['fields.service'], 'x');
  assert.equal(row['fields._t'], 'y');
  // VictoriaLogs gives every value back as a string.
  const stored = JSON.stringify(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, String(v)])));
  assert.deepEqual(fromRow(stored), {
    record: { ...record, edgeId: 'e1', fields: { n: '3', ok: 'false', service: 'x', _t: 'y' } },
    time: '2026-11-30T12:00:00.000Z',
    rid: 'abc',
  });
});

test('a row stays far below VictoriaLogs line limit: fields past the bound are left out and counted', () => {
  const fields: Record<string, string> = {};
  for (let i = 0; i < 300; i++) fields[`f${i}`] = 'v'.repeat(4000);
  fields['n'.repeat(200)] = 'long name';
  const line = toRow({ ...record, msg: 'x'.repeat(100_000), fields }, 'abc', 0);
  assert.ok(Buffer.byteLength(line) < 160 * 1024, `${Buffer.byteLength(line)} bytes`);
  const row = JSON.parse(line);
  const kept = Object.keys(row).filter((k) => /^f\d+$/.test(k)).length;
  assert.ok(kept > 10 && kept < 300, `${kept} kept`);
  assert.equal(row['fields.dropped'], 301 - kept);
});

test('a record that is not one is REJECTED, naming it', () => {
  for (const [bad, pattern] of [
    [{ ...record, time: Number.NaN }, /record 4: time/],
    [{ ...record, level: 'loud' }, /level "loud"/],
    [{ ...record, service: '' }, /service/],
  ] as const) {
    assert.throws(
      () => toRow(bad as typeof record, 'a', 4),
      (err: unknown) => err instanceof LogStoreError && err.code === 'REJECTED' && pattern.test(err.message),
    );
  }
});

test('ids are 16 letters, different each time', () => {
  const rids = randomRids(1000);
  assert.ok(rids.every((r) => /^[a-p]{16}$/.test(r)));
  assert.equal(new Set(rids).size, 1000);
});
