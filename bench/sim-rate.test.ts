/**
 * The simulated fleet's send rate by minute of its days: the first minute lighter than the ones
 * after, one snapshot per edge a minute, and no second carrying the whole fleet after the first.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simRate } from './sim-rate.ts';

test('a simulated fleet sends less in its first minute, and its snapshots are spread', () => {
  const r = simRate(600, 180);
  assert.equal(r.perMinute.length, 3);
  assert.ok(r.perMinute[0]! < r.perMinute[1]!, JSON.stringify(r.perMinute));
  // One periodic snapshot per edge per minute, after the day-start one.
  assert.ok(Math.abs(r.byKind['status-snapshot']! - 1 / 60) < 0.004, JSON.stringify(r.byKind));
  assert.ok((r.byKind['status-change'] ?? 0) > 0.02, JSON.stringify(r.byKind));
  // Before the snapshots were phased, the second of the minute every edge snapshotted carried the
  // whole fleet (600 and more).
  assert.ok(r.busiestSecond < 600 / 4, `busiest second: ${r.busiestSecond} messages`);
});
