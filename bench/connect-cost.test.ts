/**
 * The connect-cost probe against real sockets: both modes measured step by step, the "own
 * address" connections really each from their own loopback address, the other mode's from one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectCostTable, measureConnects } from './connect-cost.ts';

test('connect() cost per step, from one source address and from one address each', async () => {
  const one = await measureConnects('one address', { connections: 600, step: 300, batch: 100 });
  const own = await measureConnects('own address', { connections: 600, step: 300, batch: 100 });
  assert.deepEqual(
    one.map((r) => [r.open, r.sources]),
    [
      [300, 1],
      [600, 1],
    ],
  );
  assert.deepEqual(
    own.map((r) => [r.open, r.sources]),
    [
      [300, 300],
      [600, 600],
    ],
  );
  for (const r of [...one, ...own]) assert.ok(r.userMicros + r.systemMicros > 0, JSON.stringify(r));
  const table = connectCostTable([...one, ...own]);
  assert.match(table, /\| 600 \| \d+ \(\+\d+ user\) \| \d+ \(\+\d+ user\) \|/);
});
