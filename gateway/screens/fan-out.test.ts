/**
 * The screens' fan-out: frames reach every subscriber in order, a slice of writes at a time with
 * the event loop free in between, a subscriber gone before its turn gets nothing, and a send that
 * throws is reported without stopping the others.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FanOut } from './fan-out.ts';
import { ScopeView, ScreenFrame } from './scope-view.ts';

describe('the screens fan-out', () => {
  it('writes in slices with the loop free between them, in order per subscriber', async () => {
    const errors: unknown[] = [];
    const fanOut = new FanOut({ slice: 50, onError: (e) => errors.push(e) });
    const scope = new ScopeView('fleet', 'e');
    const got: string[][] = [];
    let written = 0;
    for (let i = 0; i < 400; i++) {
      const mine: string[] = [];
      got.push(mine);
      scope.subscribers.add({
        send(frame) {
          if (i === 7) throw new Error('a broken connection');
          mine.push(frame.id);
          written++;
        },
      });
    }
    const gone = [...scope.subscribers][399]!;
    const a = new ScreenFrame('delta', 'e.1', '{}');
    const b = new ScreenFrame('delta', 'e.2', '{}');
    fanOut.push(scope, a);
    fanOut.push(scope, b);
    assert.equal(written, 0, 'nothing is written in the tick itself');
    assert.equal(fanOut.backlog, 800);
    // Runs between slices: the loop was free while the frames went out.
    const seen: number[] = [];
    const look = () => {
      seen.push(written);
      if (fanOut.backlog > 0) setImmediate(look);
    };
    setImmediate(look);
    setImmediate(() => scope.subscribers.delete(gone));
    await fanOut.drained();
    assert.ok(
      seen.some((n) => n > 0 && n < 798),
      `the loop ran while frames were still going out (written at each look: ${seen.join(',')})`,
    );
    for (const [i, frames] of got.entries()) {
      if (i === 7 || i === 399) assert.deepEqual(frames, [], `subscriber ${i}`);
      else assert.deepEqual(frames, ['e.1', 'e.2'], `subscriber ${i}`);
    }
    assert.equal(errors.length, 2, 'the broken one is reported for each frame');
    assert.equal(fanOut.backlog, 0);
  });
});
