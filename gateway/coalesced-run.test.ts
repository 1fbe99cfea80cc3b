import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coalescedRun } from './coalesced-run.ts';

test('calls during a run make exactly one more run after it, never two at once', async () => {
  let runs = 0;
  let active = 0;
  let release: () => void = () => {};
  const run = coalescedRun(async () => {
    runs++;
    active++;
    assert.equal(active, 1, 'two passes at once');
    if (runs === 1) await new Promise<void>((r) => (release = r));
    active--;
  });
  const first = run();
  const second = run();
  const third = run();
  assert.equal(runs, 1);
  release();
  await Promise.all([first, second, third]);
  assert.equal(runs, 2, 'the two calls made during the first run coalesce into one');
  await run();
  assert.equal(runs, 3, 'a call once idle runs again');
  await run.idle();
});

test('idle waits for the run in progress', async () => {
  let done = false;
  let release: () => void = () => {};
  const run = coalescedRun(async () => {
    await new Promise<void>((r) => (release = r));
    done = true;
  });
  void run();
  const idle = run.idle().then(() => done);
  release();
  assert.equal(await idle, true);
  assert.equal(await run.idle().then(() => true), true);
});
