import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextReadCount } from './read-budget.ts';

describe('bounded turns: entries read per shard', () => {
  it('a turn past its budget makes the next read proportionally fewer, never under 1', () => {
    assert.equal(nextReadCount(100, 750, 375, 100), 50);
    assert.equal(nextReadCount(100, 3000, 375, 100), 12);
    assert.equal(nextReadCount(2, 10_000, 375, 100), 1);
    assert.equal(nextReadCount(1, 10_000, 375, 100), 1);
  });

  it('a short turn doubles it again up to the maximum; one within budget keeps it', () => {
    assert.equal(nextReadCount(12, 100, 375, 100), 24);
    assert.equal(nextReadCount(64, 100, 375, 100), 100);
    assert.equal(nextReadCount(100, 10, 375, 100), 100);
    assert.equal(nextReadCount(30, 300, 375, 100), 30);
  });

  it('an overloaded run settles within the budget and recovers once the load goes', () => {
    // A turn costs 0.5 ms per entry per shard read, over 400 backlogged shards.
    let count = 100;
    for (let i = 0; i < 10; i++) count = nextReadCount(count, count * 0.5 * 400, 375, 100);
    assert.ok(count * 0.5 * 400 <= 375, `${count} entries per shard still take ${count * 200} ms`);
    for (let i = 0; i < 10; i++) count = nextReadCount(count, 5, 375, 100);
    assert.equal(count, 100);
  });
});
