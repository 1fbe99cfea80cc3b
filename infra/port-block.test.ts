/**
 * Port blocks (infra/port-block.ts): two claims get different blocks, a dead pid's lock is
 * reclaimed, a live one's is not, a released block is free again, and a range with no free block
 * says so.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { claimPortBlock } from './port-block.ts';

// Three blocks of 10 in a range no other caller uses, locks in a folder of the test's own.
const range = { low: 26_970, high: 26_999 };
const options = () => ({ size: 10, range, dir: mkdtempSync(join(tmpdir(), 'dh-port-blocks-')) });

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

describe('port blocks', () => {
  it('gives two claims different blocks, each locked with this pid, and frees a block on release', async () => {
    const o = options();
    const a = await claimPortBlock(o);
    const b = await claimPortBlock(o);
    assert.notEqual(a.low, b.low);
    for (const block of [a, b]) {
      assert.equal(block.high - block.low, 9);
      assert.equal((block.low - range.low) % 10, 0);
      assert.equal(readFileSync(join(o.dir, `${block.low}.lock`), 'utf8'), String(process.pid));
    }
    a.release();
    assert.equal(existsSync(join(o.dir, `${a.low}.lock`)), false);
    const c = await claimPortBlock(o);
    const d = await claimPortBlock(o);
    assert.ok([c.low, d.low].includes(a.low), 'the released block is claimed again');
    await assert.rejects(
      claimPortBlock(o),
      (e: Error & { code?: string }) => e.code === 'PORT_BLOCKS_EXHAUSTED',
    );
    for (const block of [b, c, d]) block.release();
  });

  it("reclaims a dead process's lock and leaves a live one's alone", async () => {
    const o = options();
    writeFileSync(join(o.dir, '26970.lock'), String(deadPid()));
    writeFileSync(join(o.dir, '26980.lock'), String(process.ppid)); // alive: the test runner
    writeFileSync(join(o.dir, '26990.lock'), String(process.ppid));
    const block = await claimPortBlock(o);
    assert.equal(block.low, 26_970);
    assert.equal(readFileSync(join(o.dir, '26970.lock'), 'utf8'), String(process.pid));
    assert.equal(readFileSync(join(o.dir, '26980.lock'), 'utf8'), String(process.ppid));
    block.release();
  });
});
