/**
 * A screen model's state pages: every id once, with its state (or none, or none where the
 * checkpoint does not parse), in pages of whole shards, so each shard is read with one HMGET in
 * all (counted by Redis itself; on the cluster pass, summed over its masters).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EdgeState } from '../../edge/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { forEachStatePage } from './rebuild.ts';

const t = useRedis();

/** HMGET calls Redis has answered (every master's, on a cluster). */
const hmgetCalls = () => t.commandCalls('hmget');

describe('state pages', () => {
  it('hands every id over once, a page of whole shards at a time, one HMGET per shard', async () => {
    const keyspace = t.keyspace({ shards: 64 });
    const bus = t.bus(keyspace);
    const ids = Array.from({ length: 3000 }, (_, i) => `E-${i}`);
    for (const [i, id] of ids.entries()) {
      if (i % 3 === 0) continue; // never committed
      const address = `edge/${id}`;
      const json = i % 3 === 1 ? JSON.stringify({ id: '1-0', s: { lastSeen: i } }) : '{not json';
      await t.redis.hset(keyspace.shard(keyspace.shardOf(address)).state, address, json);
    }
    const before = await hmgetCalls();
    const pages: Map<string, EdgeState | undefined>[] = [];
    await forEachStatePage(bus, ids, (states) => pages.push(states), 1000);
    const calls = (await hmgetCalls()) - before;
    const seen = pages.flatMap((p) => [...p.keys()]);
    assert.equal(seen.length, ids.length);
    assert.equal(new Set(seen).size, ids.length, 'each id once');
    assert.ok(pages.length >= 2 && pages.length <= 3, `pages of at least 1,000: ${pages.map((p) => p.size)}`);
    for (const p of pages.slice(0, -1)) assert.ok(p.size >= 1000);
    const shardsOf = (p: Map<string, unknown>) =>
      new Set([...p.keys()].map((id) => keyspace.shardOf(`edge/${id}`)));
    const perPage = pages.map(shardsOf);
    for (let a = 0; a < perPage.length; a++)
      for (let b = a + 1; b < perPage.length; b++)
        for (const s of perPage[a]!) assert.ok(!perPage[b]!.has(s), `shard ${s} in two pages`);
    assert.equal(calls, 64, 'one HMGET per shard');
    const all = new Map(pages.flatMap((p) => [...p]));
    assert.equal(all.get('E-1')?.lastSeen, 1);
    assert.equal(all.get('E-0'), undefined, 'never committed');
    assert.equal(all.get('E-2'), undefined, 'does not parse: none');
    assert.ok(all.has('E-2'));
  });
});
