import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toError } from './errors.ts';

test('toError turns anything caught into an Error and never throws itself', () => {
  const error = new RangeError('kept');
  assert.equal(toError(error), error);
  assert.equal(toError('plain').message, 'plain');
  assert.equal(toError({ a: 1 }).message, '{"a":1}');
  assert.equal(toError(undefined).message, 'undefined');
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  for (const value of [
    10n,
    { n: 1n },
    cyclic,
    {
      toJSON: () => {
        throw new Error('hostile');
      },
    },
  ]) {
    const converted = toError(value);
    assert.ok(converted instanceof Error);
    assert.equal(converted.cause, value);
    assert.match(converted.message, /cannot be shown as JSON/);
  }
});
