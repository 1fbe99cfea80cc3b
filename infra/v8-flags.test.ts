/**
 * The V8 flags of a command reach its process, before flags a caller adds (which can turn one
 * off), `--single-threaded-gc` does what decision 064 counts on: no GC work on V8's helper
 * threads, and `--heap-growing-percent=100` what decision 069 counts on: V8 lets the old
 * generation grow to twice what a full GC left, whatever factor it would have chosen.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { spawnDevicehub } from './hub-process.ts';
import { v8FlagsOf } from './v8-flags.ts';

/** CPU ticks of a Node program that makes young garbage and keeps some, by thread name. */
function gcThreads(flags: string[]): Record<string, number> {
  const program = `
    const fs = require('node:fs');
    const keep = [];
    for (let i = 0; i < 3e6; i++) {
      const o = { a: i, b: 'x' + i, c: [i, i] };
      if (i % 10 === 0) { keep.push(o); if (keep.length > 200000) keep.splice(0, 100000); }
    }
    const ticks = {};
    for (const t of fs.readdirSync('/proc/self/task')) {
      const s = fs.readFileSync('/proc/self/task/' + t + '/stat', 'utf8');
      const name = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      ticks[name] = (ticks[name] ?? 0) + Number(f[11]) + Number(f[12]);
    }
    console.log(JSON.stringify(ticks));`;
  const run = spawnSync(process.execPath, [...flags, '-e', program], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as Record<string, number>;
}

const helperTicks = (ticks: Record<string, number>) =>
  Object.entries(ticks)
    .filter(([name]) => /worker/i.test(name))
    .reduce((sum, [, n]) => sum + n, 0);

describe('V8 flags of devicehub commands', () => {
  it('puts a command’s flags before those the caller adds, and none for other commands', async () => {
    assert.deepEqual(v8FlagsOf('node'), ['--single-threaded-gc', '--heap-growing-percent=100']);
    assert.deepEqual(v8FlagsOf('link'), []);
    assert.deepEqual(v8FlagsOf(undefined), []);
    await using node = spawnDevicehub(['node', '--help'], { nodeArgs: ['--no-single-threaded-gc'] });
    assert.equal(await node.exited, 0);
    const args = node.child.spawnargs;
    const on = args.indexOf('--single-threaded-gc');
    assert.ok(on > 0 && on < args.indexOf('--no-single-threaded-gc'), args.join(' '));
    await using link = spawnDevicehub(['link', '--help']);
    await link.exited;
    assert.ok(!link.child.spawnargs.includes('--single-threaded-gc'), link.child.spawnargs.join(' '));
  });

  it('leaves the GC to the main thread with --single-threaded-gc', () => {
    // Without the flag the helpers' share shows that this count sees them (up to three tries: on
    // a loaded machine the main thread may do a short run's GC work all by itself).
    let helped = 0;
    for (let i = 0; i < 3 && helped === 0; i++) helped = helperTicks(gcThreads([]));
    const alone = gcThreads(['--single-threaded-gc']);
    assert.ok(helped > 0, `V8's helper threads did GC work without the flag (${helped} ticks)`);
    assert.equal(helperTicks(alone), 0, JSON.stringify(alone));
  });

  it('grows the old generation to twice what a full GC left with --heap-growing-percent=100', () => {
    // V8 prints the factor each full GC chose (`--trace-gc-verbose`): without the flag its own
    // (1.1–4 by the allocation rate), with it 2.0.
    const factors = (flags: string[]) => {
      const program = 'const keep = []; for (let i = 0; i < 2e5; i++) keep.push({ i }); gc(); gc();';
      const run = spawnSync(
        process.execPath,
        [...flags, '--expose-gc', '--trace-gc-verbose', '-e', program],
        {
          encoding: 'utf8',
        },
      );
      assert.equal(run.status, 0, run.stderr);
      return [...run.stdout.matchAll(/\[HeapController\] factor ([0-9.]+)/g)].map((m) => Number(m[1]));
    };
    const node = [...v8FlagsOf('node')];
    const grown = factors(node);
    assert.ok(grown.length >= 2, `a factor per full GC: ${grown.join(', ')}`);
    assert.deepEqual(new Set(grown), new Set([2]));
    const own = factors(node.filter((f) => !f.startsWith('--heap-growing-percent')));
    assert.ok(own.length >= 2 && own.every((f) => f >= 1.1 && f <= 4), `V8's own: ${own.join(', ')}`);
  });
});
