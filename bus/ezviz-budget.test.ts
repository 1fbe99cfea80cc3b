/**
 * The Ezviz budget and cooldown scripts against a real Redis: the bucket's burst, the sliding
 * guard that holds a second's calls to perSecond, the cooldown that stops every grant, does not
 * double for calls already in flight and doubles on a repeat, and the inputs refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useRedis } from '../infra/test-redis.ts';
import { startEzvizCooldown, takeEzvizBudget } from './ezviz-budget.ts';

const t = useRedis();

describe('Ezviz budget', () => {
  it('grants a burst, then says how long to wait for the next unit', async () => {
    const bus = t.bus(t.keyspace());
    const budget = { perSecond: 5, burst: 3 };
    const grants = [];
    for (let i = 0; i < 4; i++) grants.push(await takeEzvizBudget(bus, budget));
    assert.deepEqual(
      grants.slice(0, 3).map((g) => g.taken),
      [true, true, true],
    );
    const last = grants[3]!;
    assert.ok(!last.taken);
    assert.equal(last.cooldown, false);
    assert.ok(last.waitMs > 0 && last.waitMs <= 200, `one unit at 5/s: ${last.waitMs} ms`);
  });

  it('holds any window of 1.1 s to perSecond grants even when the bucket is full', async () => {
    const bus = t.bus(t.keyspace());
    const budget = { perSecond: 2, burst: 2 };
    assert.ok((await takeEzvizBudget(bus, budget)).taken);
    assert.ok((await takeEzvizBudget(bus, budget)).taken);
    // Refill the bucket by hand: only the sliding guard stands between a third call and Ezviz.
    await t.redis.hset(bus.keyspace.ezviz.bucket, 'tokens', 2);
    const third = await takeEzvizBudget(bus, budget);
    assert.ok(!third.taken);
    assert.ok(third.waitMs > 1000, `the guard waits for the window: ${third.waitMs} ms`);
  });

  it('stops every grant during a cooldown, which grows on a repeat but not for calls in flight', async () => {
    const bus = t.bus(t.keyspace());
    const budget = { perSecond: 100, burst: 100 };
    const first = await startEzvizCooldown(bus, { code: '10029', baseMs: 1000, maxMs: 5000 });
    assert.deepEqual(first, { cooldownMs: 1000, strikes: 1 });
    const held = await takeEzvizBudget(bus, budget);
    assert.ok(!held.taken && held.cooldown && held.waitMs <= 1000, JSON.stringify(held));
    // Another answer to a call that was already in flight: the same cooldown, no new strike.
    const inFlight = await startEzvizCooldown(bus, { code: '10029', baseMs: 1000, maxMs: 5000 });
    assert.equal(inFlight.strikes, 1);
    assert.ok(inFlight.cooldownMs <= 1000);
    assert.equal(await t.redis.get(bus.keyspace.ezviz.cooldown), '10029');
    // The cooldown over (as if expired), the next rate answer doubles it, up to max.
    await t.redis.del(bus.keyspace.ezviz.cooldown);
    assert.ok((await takeEzvizBudget(bus, budget)).taken);
    assert.deepEqual(await startEzvizCooldown(bus, { code: '10029', baseMs: 1000, maxMs: 5000 }), {
      cooldownMs: 2000,
      strikes: 2,
    });
    await t.redis.del(bus.keyspace.ezviz.cooldown);
    await startEzvizCooldown(bus, { code: '10029', baseMs: 1000, maxMs: 5000 });
    await t.redis.del(bus.keyspace.ezviz.cooldown);
    assert.deepEqual(await startEzvizCooldown(bus, { code: '10007', baseMs: 1000, maxMs: 5000 }), {
      cooldownMs: 5000,
      strikes: 4,
    });
  });

  it('refuses budgets and cooldowns it cannot keep', async () => {
    const bus = t.bus(t.keyspace());
    await assert.rejects(
      takeEzvizBudget(bus, { perSecond: 0, burst: 1 }),
      /perSecond must be in \(0, 10000\], got 0/,
    );
    await assert.rejects(
      takeEzvizBudget(bus, { perSecond: 5, burst: 0.5 }),
      /burst must be in \[1, 10000\], got 0\.5/,
    );
    await assert.rejects(
      takeEzvizBudget(bus, { perSecond: 5, burst: 5, windowMs: 500 }),
      /windowMs must be an integer 1000\.\.60000, got 500/,
    );
    await assert.rejects(
      startEzvizCooldown(bus, { code: '10029', baseMs: 1000, maxMs: 10 }),
      /maxMs ≥ baseMs, got 1000, 10/,
    );
  });
});
