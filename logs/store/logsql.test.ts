import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCursor, encodeCursor, fullPrecision, pageQuery, quote, tailQuery } from './logsql.ts';
import { LogStoreError } from './types.ts';

const base = { from: Date.UTC(2026, 0, 1), to: Date.UTC(2026, 0, 2), limit: 50 };

test('values are quoted string literals, whatever they contain', () => {
  assert.equal(quote('a"b\\c\nd'), '"a\\"b\\\\c\\nd"');
  assert.equal(quote('\ud800x'), '"\ufffdx"', 'a lone surrogate has no UTF-8 form');
  const q = pageQuery({ ...base, edgeId: 'e1"} OR {edgeId="e2', text: 'x") OR * | delete _msg' });
  assert.ok(q.includes('{edgeId="e1\\"} OR {edgeId=\\"e2"}'), q);
  assert.ok(
    q.includes('_msg:i("x\\")") _msg:i("OR") _msg:i("*") _msg:i("|") _msg:i("delete") _msg:i("_msg")'),
    q,
  );
});

test('a page query: time range, stream filters, levels at least, words, newest first, one more than the limit', () => {
  assert.equal(
    pageQuery({ ...base, service: 'link', edgeId: 'e-7', level: 'warn', text: ' disk  full ' }),
    '_time:[2026-01-01T00:00:00.000Z, 2026-01-02T00:00:00.000Z] {service="link", edgeId="e-7"} ' +
      'level:in("warn", "error", "fatal") _msg:i("disk") _msg:i("full") | sort by (_time desc, rid desc) limit 51',
  );
  assert.equal(tailQuery({}), '*');
  assert.equal(tailQuery({ level: 'trace' }), '*');
  assert.equal(tailQuery({ level: 'error', edgeId: 'e' }), '{edgeId="e"} level:in("error", "fatal")');
});

test('the cursor continues after the last record: older, or as old with a smaller id', () => {
  const cursor = encodeCursor({ time: '2026-01-01T10:00:00.123Z', rid: 'abcd' });
  assert.deepEqual(decodeCursor(cursor), { time: '2026-01-01T10:00:00.123Z', rid: 'abcd' });
  const q = pageQuery({ ...base, cursor });
  assert.ok(
    q.includes(
      '_time:<=2026-01-01T10:00:00.123000000Z (_time:<2026-01-01T10:00:00.123000000Z OR rid:<"abcd")',
    ),
    q,
  );
});

test('a cursor time is written to the nanosecond: VictoriaLogs reads `…:49Z` as the whole second', () => {
  assert.equal(fullPrecision('2026-01-01T10:00:49Z'), '2026-01-01T10:00:49.000000000Z');
  assert.equal(fullPrecision('2026-01-01T10:00:49.12Z'), '2026-01-01T10:00:49.120000000Z');
  assert.equal(fullPrecision('2026-01-01T10:00:49.123456789Z'), '2026-01-01T10:00:49.123456789Z');
  const q = pageQuery({ ...base, cursor: encodeCursor({ time: '2026-01-01T10:00:49Z', rid: 'ab' }) });
  assert.ok(q.includes('_time:<=2026-01-01T10:00:49.000000000Z (_time:<2026-01-01T10:00:49.000000000Z'), q);
});

test('a bad query is BAD_QUERY naming what is wrong', () => {
  const bad = (q: Parameters<typeof pageQuery>[0], pattern: RegExp) =>
    assert.throws(
      () => pageQuery(q),
      (err: unknown) => err instanceof LogStoreError && err.code === 'BAD_QUERY' && pattern.test(err.message),
    );
  bad({ ...base, limit: 0 }, /limit/);
  bad({ ...base, limit: 1001 }, /limit/);
  bad({ ...base, from: base.to + 1 }, /from is after to/);
  bad({ ...base, to: Number.NaN }, /from and to/);
  bad({ ...base, level: 'loud' as 'info' }, /level/);
  bad({ ...base, cursor: 'garbage' }, /cursor/);
  // A forged cursor cannot carry LogsQL either.
  bad(
    {
      ...base,
      cursor: Buffer.from(JSON.stringify(['2026-01-01T00:00:00Z OR *', 'a'])).toString('base64url'),
    },
    /cursor/,
  );
  bad(
    {
      ...base,
      cursor: Buffer.from(JSON.stringify(['2026-01-01T00:00:00Z', 'a" OR *'])).toString('base64url'),
    },
    /cursor/,
  );
});
