/** The verdict on an event's frames by its kind's targets and threshold (pure). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Detection } from '../../edge/protocol/mod.ts';
import { judge } from './judge.ts';

const EBIKE = { targets: ['bicycle', 'motorcycle'], confirmScore: 0.5 };
const d = (label: string, score: number, box: Detection['box'] = [0.1, 0.1, 0.2, 0.2]): Detection => ({
  label,
  score,
  box,
});

describe('judge', () => {
  test('a target at the threshold confirms, on the frame with the best target', () => {
    const j = judge([[d('motorcycle', 0.3)], [d('person', 0.9), d('bicycle', 0.5)]], EBIKE);
    assert.equal(j.verdict, 'confirmed');
    assert.equal(j.frame, 1);
    assert.deepEqual(
      j.detections?.map((x) => x.label),
      ['person', 'bicycle'],
      'all of the frame, best first',
    );
    assert.match(j.reason, /bicycle\/motorcycle 0\.50 ≥ 0\.5 on frame 1/);
  });

  test('targets under the threshold, or none, dismiss', () => {
    const under = judge([[d('bicycle', 0.31), d('person', 0.8)]], EBIKE);
    assert.equal(under.verdict, 'dismissed');
    assert.match(under.reason, /at most 0\.31 < 0\.5/);
    const none = judge([[d('cup', 0.9)], []], EBIKE);
    assert.equal(none.verdict, 'dismissed');
    assert.equal(none.frame, 0);
    assert.match(none.reason, /no bicycle\/motorcycle found/);
  });

  test('only image problems: invalid with the first frame’s reason; a readable frame is judged', () => {
    const bad = { problem: 'not_an_image', reason: 'unsupported image format' };
    const j = judge([bad, { problem: 'too_small', reason: '1×1' }], EBIKE, [2, 3]);
    assert.deepEqual(j, { verdict: 'invalid', reason: 'frame 2: not_an_image: unsupported image format' });
    const mixed = judge([bad, [d('motorcycle', 0.86)]], EBIKE);
    assert.equal(mixed.verdict, 'confirmed');
    assert.equal(mixed.frame, 1);
  });

  test('boxes are clamped into the frame and scores rounded', () => {
    const j = judge([[d('person', 0.123456789, [-0.01, 0.5, 1.2, 0.333333333])]], {
      targets: ['person'],
      confirmScore: 0.1,
    });
    assert.deepEqual(j.detections, [{ label: 'person', score: 0.1235, box: [0, 0.5, 1, 0.3333] }]);
  });
});
