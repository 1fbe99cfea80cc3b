/**
 * waitFor: the value once the condition holds, and a timeout that names what it waited for, with
 * what `explain` says at the timeout (not at the start).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from './wait-for.ts';

describe('waitFor', () => {
  it('resolves with the first value that is not undefined or false', async () => {
    let n = 0;
    assert.equal(await waitFor(() => (++n >= 3 ? n : false), { intervalMs: 1 }), 3);
  });

  it('times out naming the condition and what explain says then', async () => {
    let polls = 0;
    await assert.rejects(
      waitFor(
        () => {
          polls++;
          return false;
        },
        {
          timeoutMs: 30,
          intervalMs: 5,
          message: 'the counter',
          explain: async () => `polled ${polls} times`,
        },
      ),
      (error: Error) => {
        assert.match(error.message, /^Timed out after 30 ms waiting for the counter; polled (\d+) times$/);
        assert.ok(
          Number(/polled (\d+)/.exec(error.message)![1]) > 1,
          'said at the timeout, not at the start',
        );
        return true;
      },
    );
    await assert.rejects(
      waitFor(() => false, {
        timeoutMs: 1,
        explain: () => {
          throw new Error('gone');
        },
      }),
      /waiting for condition; \(could not say: Error: gone\)$/,
    );
  });
});
