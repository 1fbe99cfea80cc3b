/** Micro-batching: a full batch goes at once, a partial one after the oldest's wait, one run at a time. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MicroBatcher } from './micro-batcher.ts';

/** A run that holds until released, recording the batches it was given. */
function gate() {
  const batches: number[][] = [];
  let release: () => void = () => {};
  let held = new Promise<void>((r) => {
    release = r;
  });
  return {
    batches,
    release: () => {
      const r = release;
      held = new Promise<void>((next) => {
        release = next;
      });
      r();
    },
    run: async (items: number[]) => {
      batches.push(items);
      const wait = held;
      await wait;
      return items.map((i) => i * 10);
    },
  };
}

describe('MicroBatcher', () => {
  test('maxBatch items go as one run at once; what arrives during it is the next batch', async () => {
    const g = gate();
    // A wait far longer than the test: only a full batch (or drain) starts a run.
    const b = new MicroBatcher({ maxBatch: 3, maxWaitMs: 60_000, run: g.run });
    const first = [1, 2, 3].map((i) => b.submit(i));
    const late = [4, 5].map((i) => b.submit(i));
    assert.deepEqual(g.batches, [[1, 2, 3]], 'the full batch ran, the rest waits for it');
    assert.equal(b.waiting, 2);
    g.release();
    const done = await Promise.all(first);
    assert.deepEqual(
      done.map((r) => r.result),
      [10, 20, 30],
    );
    assert.equal(done[0]?.batch.size, 3);
    const drained = b.drain();
    g.release();
    await drained;
    assert.deepEqual(g.batches, [
      [1, 2, 3],
      [4, 5],
    ]);
    assert.deepEqual(
      (await Promise.all(late)).map((r) => [r.result, r.batch.size]),
      [
        [40, 2],
        [50, 2],
      ],
    );
  });

  test('a partial batch runs once its oldest item has waited maxWaitMs', async () => {
    const batches: number[][] = [];
    const b = new MicroBatcher({
      maxBatch: 8,
      maxWaitMs: 5,
      run: async (items: number[]) => {
        batches.push(items);
        return items;
      },
    });
    const r = await Promise.all([b.submit(1), b.submit(2)]);
    assert.deepEqual(batches, [[1, 2]]);
    assert.equal(r[1]?.batch.size, 2);
  });

  test('a run that throws is run item by item: only the item that breaks it fails', async () => {
    const runs: string[][] = [];
    const b = new MicroBatcher({
      maxBatch: 3,
      maxWaitMs: 60_000,
      run: async (items: string[]) => {
        runs.push(items);
        if (items.includes('bad')) throw new Error('model failed');
        return items.map((i) => i.toUpperCase());
      },
    });
    const [one, bad, two] = ['one', 'bad', 'two'].map((i) => b.submit(i));
    await assert.rejects(bad!, /model failed/);
    assert.equal((await one!).result, 'ONE');
    assert.equal((await two!).batch.size, 1);
    assert.deepEqual(runs, [['one', 'bad', 'two'], ['one'], ['bad'], ['two']]);
    const three = b.submit('three');
    await b.drain();
    assert.equal((await three).result, 'THREE', 'the batcher goes on');
  });

  test('options are checked', () => {
    assert.throws(
      () => new MicroBatcher({ maxBatch: 0, maxWaitMs: 1, run: async () => [] }),
      /maxBatch must be an integer 1..1024, got 0/,
    );
  });
});
