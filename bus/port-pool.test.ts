/**
 * The shared port pool against a real Redis: many callers on several connections at once never
 * get the same port, exhaustion is a typed error, only the holder can give a port back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useRedis } from '../infra/test-redis.ts';
import { ClaimTakenError, PortsExhaustedError } from './errors.ts';
import { allocatedPorts } from './port-pool.ts';

const t = useRedis();

describe('port pool', () => {
  it('hands out each port once under contention, then refuses, and takes ports back from their holder only', async () => {
    const keyspace = t.keyspace();
    const range = { low: 20_000, high: 20_039 }; // 40 ports
    const connections = [t.connect(), t.connect(), t.connect()];
    // 30 tunnels of 2 ports each from three connections at once: 20 fit, 10 do not.
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        t.bus(keyspace, connections[i % 3]!).allocatePorts({ range, count: 2, owner: `tunnel-${i}` }),
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

    const held = await allocatedPorts(t.bus(keyspace));
    const [port, owner] = [...held.entries()][0]!;
    assert.equal(
      await t.bus(keyspace).releasePorts({ owner: 'someone-else', ports: [port] }),
      0,
      'not theirs',
    );
    assert.equal(await t.bus(keyspace).releasePorts({ owner: owner, ports: [port] }), 1);
    const again = await t.bus(keyspace).allocatePorts({ range, count: 1, owner: 'late' });
    assert.deepEqual(again, [port], 'the freed port is handed out again');
    await assert.rejects(
      t.bus(keyspace).allocatePorts({ range: { low: 5, high: 4 }, count: 1, owner: 'x' }),
      /range must be 1\.\.65535, low ≤ high, got 5\.\.4/,
    );
  });

  it('takes claims with the ports, all or none: a second owner is refused and told who holds them', async () => {
    const keyspace = t.keyspace();
    const range = { low: 21_000, high: 21_002 };
    const claims = ['E-1|ssh', 'E-1|camera'];
    const [a, b] = await Promise.allSettled([
      t.bus(keyspace).allocatePorts({ range, count: 2, owner: 'T-a', claims }),
      t.bus(keyspace, t.connect()).allocatePorts({ range, count: 2, owner: 'T-b', claims }),
    ]);
    const winner = a.status === 'fulfilled' ? 'T-a' : 'T-b';
    const loser = [a, b].find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.ok(loser.reason instanceof ClaimTakenError, String(loser.reason));
    assert.equal(loser.reason.holder, winner);
    assert.equal((await allocatedPorts(t.bus(keyspace))).size, 2, 'the loser took no ports');
    // One claim taken is enough to refuse; a claim-free request still gets the last port.
    await assert.rejects(
      t.bus(keyspace).allocatePorts({ range, count: 1, owner: 'T-c', claims: ['E-1|console', 'E-1|ssh'] }),
      ClaimTakenError,
    );
    assert.equal(await t.redis.hget(keyspace.portClaims, 'E-1|console'), null, 'all or none');
    // Exhaustion takes no claims either.
    await assert.rejects(
      t.bus(keyspace).allocatePorts({ range, count: 2, owner: 'T-d', claims: ['E-2|ssh'] }),
      PortsExhaustedError,
    );
    assert.equal(await t.redis.hget(keyspace.portClaims, 'E-2|ssh'), null);
    // Released by their holder only; then free for the next tunnel.
    const held = [...(await allocatedPorts(t.bus(keyspace))).keys()];
    assert.equal(await t.bus(keyspace).releasePorts({ owner: 'T-x', ports: held, claims: claims }), 0);
    assert.equal(await t.redis.hget(keyspace.portClaims, 'E-1|ssh'), winner);
    assert.equal(await t.bus(keyspace).releasePorts({ owner: winner, ports: held, claims: claims }), 2);
    assert.deepEqual(await t.redis.hgetall(keyspace.portClaims), {});
    const next = await t.bus(keyspace).allocatePorts({
      range,
      count: 0,
      owner: 'T-e',
      claims: ['E-1|ssh'],
    });
    assert.deepEqual(next, [], 'claims alone (multiplexed tunnels need no port of their own)');
  });
});
