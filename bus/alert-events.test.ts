/**
 * alert-event.lua against a real Redis (and the Redis Cluster pass): an alert state is appended to
 * its tag group's outbox once, a repeat appends nothing and renews the mark, another state of the
 * same alert is appended after it in the same stream, and a key that is not a hash is refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useRedis } from '../infra/test-redis.ts';
import { appendAlertEvent } from './alert-events.ts';
import { fnv1a32 } from './hash.ts';

const t = useRedis();

describe('alert events into the outbox', () => {
  it('appends an alert state once, repeats nothing, and keeps an alert’s states in one stream in order', async () => {
    const bus = t.bus(t.keyspace());
    const orderBy = 'fingerprint-1';
    const firing = { key: 'a'.repeat(32), orderBy, event: { type: 'server.alert', status: 'firing' } };
    const resolved = { key: 'b'.repeat(32), orderBy, event: { type: 'server.alert', status: 'resolved' } };
    const first = await appendAlertEvent(bus, { ...firing, seenSeconds: 100 });
    assert.match(first ?? '', /^\d+-\d+$/);
    assert.equal(await appendAlertEvent(bus, { ...firing, seenSeconds: 200 }), undefined);
    const group = fnv1a32(orderBy) % bus.keyspace.tagGroups;
    const ttl = await t.redis.ttl(bus.keyspace.alertSeen(group, firing.key));
    assert.ok(ttl > 100 && ttl <= 200, `the repeat renewed the mark: ${ttl} s`);
    const entries = await t.redis.xrange(bus.keyspace.outbox(group), '-', '+');
    assert.deepEqual(
      entries.map(([id, fields]) => [id, JSON.parse(fields[1]!).status]),
      [[first, 'firing']],
    );
    const second = await appendAlertEvent(bus, resolved);
    const all = await t.redis.xrange(bus.keyspace.outbox(group), '-', '+');
    assert.deepEqual(
      all.map(([id, fields]) => [id, JSON.parse(fields[1]!).status]),
      [
        [first, 'firing'],
        [second, 'resolved'],
      ],
    );
  });

  it('refuses a key that is not 16–64 hex digits', async () => {
    const bus = t.bus(t.keyspace());
    await assert.rejects(
      appendAlertEvent(bus, { key: 'not-a-hash', orderBy: 'x', event: {} }),
      /16–64 hex digits/,
    );
  });
});
