/**
 * Checkpoints read from outside the runtime: many actors' at once (one HMGET per shard, and the
 * cluster pass) come back in the order asked, null where an actor never committed one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useRedis } from '../infra/test-redis.ts';
import { readActorState, readCheckpoints } from './read-state.ts';

const t = useRedis();

describe('reading checkpoints', () => {
  it('reads many actors over many shards in the order asked', async () => {
    const keyspace = t.keyspace();
    const bus = t.bus(keyspace);
    const addresses = Array.from({ length: 300 }, (_, i) => `edge/E-${i}`);
    const written = addresses.filter((_, i) => i % 3 !== 0);
    for (const address of written)
      await t.redis.hset(
        keyspace.shard(keyspace.shardOf(address)).state,
        address,
        JSON.stringify({ id: '1-0', s: { address } }),
      );
    const shards = new Set(addresses.map((a) => keyspace.shardOf(a)));
    assert.ok(shards.size > 1, 'the addresses span several shards');
    const raw = await readCheckpoints(bus, addresses);
    assert.equal(raw.length, addresses.length);
    raw.forEach((json, i) => {
      if (i % 3 === 0) assert.equal(json, null, `${addresses[i]} never committed`);
      else assert.equal((JSON.parse(json!) as { s: { address: string } }).s.address, addresses[i]);
    });
    assert.deepEqual(await readCheckpoints(bus, []), []);
    assert.deepEqual(await readActorState(bus, 'edge/E-1'), {
      lastId: '1-0',
      state: { address: 'edge/E-1' },
    });
  });
});
