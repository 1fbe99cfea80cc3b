import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findStalls } from './cpu-stalls.ts';

const frame = (functionName: string, line = 0) => ({ functionName, url: 'file:///x/y.ts', lineNumber: line });

test('a busy stretch between idle samples is a stall, with its GC and its largest self times', () => {
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('(idle)') },
      { id: 2, callFrame: frame('stringify', 9) },
      { id: 3, callFrame: frame('(garbage collector)') },
      { id: 4, callFrame: frame('tick', 41) },
    ],
    startTime: 0,
    // idle 10 ms, then 40 ms busy (stringify 20, GC 10, tick 10), idle, then 5 ms busy, idle.
    samples: [1, 2, 2, 3, 4, 1, 4, 1],
    timeDeltas: [0, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 5_000],
  };
  const stalls = findStalls(profile, 30);
  assert.equal(stalls.length, 1, JSON.stringify(stalls));
  assert.deepEqual(stalls[0], {
    atMs: 10,
    lengthMs: 40,
    gcMs: 10,
    top: [
      { frame: 'stringify y.ts:10', ms: 20 },
      { frame: '(garbage collector) y.ts:1', ms: 10 },
      { frame: 'tick y.ts:42', ms: 10 },
    ],
  });
  assert.equal(findStalls(profile, 5).length, 2, 'the short one counts at a lower threshold');
});
