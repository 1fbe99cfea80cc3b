/**
 * The simulated day is the ground truth every benchmark compares against: the same seed gives the
 * same seconds, and the workloads make the same messages from them, whatever is done to make a
 * second cheaper to compute. Pinned as digests of whole stretches of days.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { birthOf, elevatorDay } from './elevator-day.ts';
import { createSimEdge } from './sim-edge.ts';
import { CompactEdge, LegacyEdge } from './workloads.ts';

const digest = (lines: Iterable<string>): string => {
  const hash = createHash('sha256');
  for (const line of lines) hash.update(line).update('\n');
  return hash.digest('hex').slice(0, 16);
};

/** `count` seconds of the day of `seed`, from second `from`. */
function* seconds(seed: number, from: number, count: number) {
  let n = 0;
  for (const second of elevatorDay(seed, 300, from)) {
    if (n++ === count) return;
    yield second;
  }
}

describe('elevator day', () => {
  it('is the same day for the same seed: seconds, trips, windows and faults', () => {
    // What the pinned days hold: trips run, doors cycle, both vision windows and both faults.
    const seen = { running: 0, open: 0, ebike: 0, blocked: 0, faults: 0 };
    for (const s of seconds(977, 0, 86_400)) {
      if (s.status.running) seen.running++;
      if (s.status.door === 'open') seen.open++;
      if (s.vision.ebike) seen.ebike++;
      if (s.vision.doorBlocked) seen.blocked++;
      seen.faults += s.faults.length;
    }
    assert.ok(seen.running > 1000 && seen.open > 1000, JSON.stringify(seen));
    assert.deepEqual([seen.ebike, seen.blocked, seen.faults], [120, 90, 4]);
    const lines = function* () {
      for (const seed of [1, 2, 977]) for (const s of seconds(seed, 0, 86_400)) yield JSON.stringify(s);
    };
    assert.equal(digest(lines()), 'c09d15dd1449e5c7');
  });

  it('starts mid-day as the edges of the simulator do (their own minute of the busy hours)', () => {
    const lines = function* () {
      for (const index of [0, 5, 4_321]) {
        const edge = createSimEdge(index, {
          id: `sim-${index}`,
          workload: 'compact',
          boot: 'b',
          client: undefined,
        });
        for (let i = 0; i < 3_000; i++) yield JSON.stringify(edge.day.next().value);
      }
    };
    assert.equal(digest(lines()), '066ee2eb7af71650');
  });

  it('makes the same compact and legacy messages second by second', () => {
    const lines = function* () {
      for (const seed of [3, 41]) {
        const compact = new CompactEdge(`e-${seed}`, birthOf(`e-${seed}`), { boot: 'boot-1' });
        const legacy = new LegacyEdge(`e-${seed}`, birthOf(`e-${seed}`), { boot: 'boot-1' });
        let now = 1_700_000_000_000;
        for (const s of seconds(seed, 25_000, 20_000)) {
          now += 1000;
          yield JSON.stringify(compact.second(s, now));
          yield JSON.stringify(legacy.second(s, now));
        }
      }
    };
    assert.equal(digest(lines()), 'e505e7780400f22e');
  });
});
