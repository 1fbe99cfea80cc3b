/**
 * The leased job with a stand-in lease: a run slower than the interval never overlaps the next,
 * a tick without the lease does not run, a failure is reported and the next tick runs, and stop()
 * resolves only after the run in progress.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../infra/mod.ts';
import { startLeasedJob } from './leased-job.ts';

describe('leased job', () => {
  it('runs one at a time under the lease, and stop() waits for the run in progress', async () => {
    const leases: { name: string; holder: string; ttlMs: number }[] = [];
    let held = false;
    let running = 0;
    let most = 0;
    let runs = 0;
    let release: (() => void) | undefined;
    const errors: Error[] = [];
    const job = startLeasedJob({
      bus: {
        holdLease: async (input) => {
          leases.push(input);
          held = !held; // every other tick: held, not held, held…
          return held;
        },
      },
      lease: 'some-lease',
      holder: 'gw-1',
      intervalMs: 5,
      run: async () => {
        running++;
        most = Math.max(most, running);
        runs++;
        try {
          if (runs === 2) throw new Error('boom');
          if (runs === 4) await new Promise<void>((r) => (release = r));
          else await new Promise((r) => setTimeout(r, 20)); // four intervals
        } finally {
          running--;
        }
      },
      onError: (error) => errors.push(error),
    });
    await waitFor(() => release !== undefined, { message: 'the fourth run in progress' });
    let stopped = false;
    const stopping = job.stop().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(stopped, false, 'stop() waits for the run in progress');
    release?.();
    await stopping;
    assert.equal(most, 1, 'never two runs at once');
    assert.equal(runs, 4, 'no run after stop()');
    assert.equal(leases.length, 7, 'a tick without the lease between runs');
    assert.deepEqual(leases[0], { name: 'some-lease', holder: 'gw-1', ttlMs: 1000 });
    assert.deepEqual(
      errors.map((e) => e.message),
      ['boom'],
    );
  });
});
