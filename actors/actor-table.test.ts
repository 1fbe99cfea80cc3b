/**
 * The actor table's dirty list, which every turn consumes (actor-table.ts `due`): each dirty actor
 * is handed out once, when its checkpoint is due, in the order the actors became dirty, across
 * the list's compactions; an actor checkpointed meanwhile is not, one dirty again is when its new
 * time comes, and one dropped with its shard never is.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useRedis } from '../infra/test-redis.ts';
import { ActorTable } from './actor-table.ts';
import type { ActorDefinition } from './define.ts';
import { silentLogger } from './logger.ts';
import { counterActor } from './testdata/actors.ts';

const t = useRedis();

describe('the actor table', () => {
  it('hands out each due actor once, in order, across compactions of its dirty list', async () => {
    const table = new ActorTable(t.bus(t.keyspace()), silentLogger);
    const n = 5000;
    const wanted = Array.from({ length: n }, (_, i) => ({
      address: `counter/c-${i}`,
      shard: i % 4,
      definition: counterActor as unknown as ActorDefinition,
    }));
    await table.activate(wanted, 0);
    const slot = (i: number) => table.get(`counter/c-${i}`)!;
    // Actor i becomes dirty at time i + 1.
    for (let i = 0; i < n; i++) table.applied(slot(i), `${i + 1}-0`, i + 1);
    // Checkpointed meanwhile (nothing pending): not due. Dirty again at 10,000: due then.
    table.checkpointed({ slot: slot(7), id: '8-0', acked: 1, now: 100 });
    table.checkpointed({ slot: slot(9), id: '10-0', acked: 1, now: 100 });
    table.applied(slot(9), '20000-0', 10_000);
    assert.equal(table.dropShard(3), n / 4);
    const expected = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, k) => from + k)
        .filter((i) => i !== 7 && i !== 9 && i % 4 !== 3)
        .map((i) => `counter/c-${i}`);
    const handedOut: string[] = [];
    // Cutoffs in uneven steps, so the head moves past 1,024 and past half the list at odd places.
    let cutoff = 1;
    for (const step of [1, 3, 700, 1, 900, 1200, 37, 1500, 5, 2000]) {
      cutoff += step;
      const due = table.due(cutoff).map((s) => s.address);
      assert.deepEqual(due, expected(cutoff - step - 1, Math.min(cutoff - 1, n)), `due before ${cutoff}`);
      handedOut.push(...due);
    }
    assert.deepEqual(handedOut, expected(0, n));
    assert.deepEqual(
      table.due(10_001).map((s) => s.address),
      ['counter/c-9'],
      'dirty again: due at its new time',
    );
    assert.deepEqual(table.due(Number.MAX_SAFE_INTEGER), [], 'each handed out once');
  });
});
