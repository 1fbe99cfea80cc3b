/**
 * The shared port pool against a real Redis: many callers on several connections at once never
 * get the same port, exhaustion is a typed error, only the holder can give a port back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useRedis } from '../infra/test-redis.ts';
import { PortsExhaustedError } from './errors.ts';
import { allocatedPorts, allocatePorts, releasePorts } from './port-pool.ts';

const t = useRedis();

describe('port pool', () => {
  it('hands out each port once under contention, then refuses, and takes ports back from their holder only', async () => {
    const keyspace = t.keyspace();
    const range = { low: 20_000, high: 20_039 }; // 40 ports
    const connections = [t.connect(), t.connect(), t.connect()];
    // 30 tunnels of 2 ports each from three connections at once: 20 fit, 10 do not.
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        allocatePorts(connections[i % 3]!, keyspace, { range, count: 2, owner: `tunnel-${i}` }),
      ),
    );
    const granted = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    assert.equal(granted.length, 20);
    assert.equal(refused.length, 10);
    assert.ok(refused.every((e) => e instanceof PortsExhaustedError && e.retryable));
    const ports = granted.flat();
    assert.equal(new Set(ports).size, 40, 'no port twice');
    assert.ok(ports.every((p) => p >= range.low && p <= range.high));

    const held = await allocatedPorts(t.redis, keyspace);
    const [port, owner] = [...held.entries()][0]!;
    assert.equal(await releasePorts(t.redis, keyspace, 'someone-else', [port]), 0, 'not theirs');
    assert.equal(await releasePorts(t.redis, keyspace, owner, [port]), 1);
    const again = await allocatePorts(t.redis, keyspace, { range, count: 1, owner: 'late' });
    assert.deepEqual(again, [port], 'the freed port is handed out again');
    await assert.rejects(
      allocatePorts(t.redis, keyspace, { range: { low: 5, high: 4 }, count: 1, owner: 'x' }),
      /range must be 1\.\.65535, low ≤ high, got 5\.\.4/,
    );
  });
});
