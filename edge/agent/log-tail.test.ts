/**
 * Following a log file: from its end (or a remembered position), partial last lines kept until
 * their newline, both rotations (rename + create, copytruncate), and the level a line names.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseLevel } from './log-settings.ts';
import { FileTail } from './log-tail.ts';

const text = (lines: Buffer[]) => lines.map((l) => l.toString());

describe('FileTail', () => {
  it('starts at the end, keeps a partial last line until its newline, and takes CRLF', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tail-')), 'app.log');
    writeFileSync(path, 'old 1\nold 2\n');
    const tail = new FileTail(path);
    assert.deepEqual(text(await tail.read()), [], 'the backlog is not shipped');
    appendFileSync(path, 'new 1\nnew 2 is hal');
    assert.deepEqual(text(await tail.read()), ['new 1']);
    assert.deepEqual(text(await tail.read()), []);
    appendFileSync(path, 'f done\r\nnew 3\n');
    assert.deepEqual(text(await tail.read()), ['new 2 is half done', 'new 3']);
    await tail.close();
  });

  it('follows rename + create: the old file to its end (last line without newline too), then the new one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tail-'));
    const path = join(dir, 'elenet.log');
    writeFileSync(path, '');
    const tail = new FileTail(path);
    await tail.read();
    appendFileSync(path, 'a\n');
    assert.deepEqual(text(await tail.read()), ['a']);
    appendFileSync(path, 'b\nc without newline');
    renameSync(path, `${path}.1`);
    appendFileSync(`${path}.1`, ' (written after the rename)\nlast'); // the writer still holds the old file
    assert.deepEqual(
      text(await tail.read()),
      ['b', 'c without newline (written after the rename)'],
      'no new file yet: still reading the old one',
    );
    writeFileSync(path, 'd\n');
    assert.deepEqual(text(await tail.read()), ['last', 'd'], 'the old file’s last line, then the new file');
    appendFileSync(path, 'e\n');
    assert.deepEqual(text(await tail.read()), ['e']);
    await tail.close();
  });

  it('follows copytruncate: the same file shorter starts again at 0', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tail-')), 'core.log');
    writeFileSync(path, 'x\n');
    const tail = new FileTail(path);
    await tail.read();
    appendFileSync(path, 'one\ntwo\n');
    assert.deepEqual(text(await tail.read()), ['one', 'two']);
    truncateSync(path, 0);
    appendFileSync(path, 'three\n');
    assert.deepEqual(text(await tail.read()), ['three']);
    await tail.close();
  });

  it('resumes at a remembered position of the same file; a newer file from its start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tail-'));
    const path = join(dir, 'a.log');
    writeFileSync(path, 'seen\n');
    const first = new FileTail(path);
    await first.read();
    appendFileSync(path, 'shipped\nnot yet');
    await first.read();
    const at = first.position!;
    assert.equal(at.pos, 'seen\nshipped\n'.length, 'the partial line is not counted as read');
    await first.close();
    appendFileSync(path, ' read\nwhile away\n');
    const again = new FileTail(path, { resume: at });
    assert.deepEqual(text(await again.read()), ['not yet read', 'while away']);
    await again.close();
    // Rotated while the agent was away: the remembered inode is gone, the new file is read from 0.
    renameSync(path, `${path}.1`);
    writeFileSync(path, 'fresh\n');
    const rotated = new FileTail(path, { resume: at });
    assert.deepEqual(text(await rotated.read()), ['fresh']);
    await rotated.close();
  });

  it('returns a line that never ends once it passes maxPartialBytes; a missing file is no error', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tail-')), 'x.log');
    const tail = new FileTail(path, { maxPartialBytes: 100 });
    assert.deepEqual(await tail.read(), []);
    writeFileSync(path, '');
    await tail.read();
    appendFileSync(path, 'y'.repeat(250));
    const [line] = await tail.read();
    assert.equal(line?.byteLength, 250);
    await tail.close();
  });
});

describe('parseLevel', () => {
  it('reads pino JSON, glog prefixes and level words; info otherwise', () => {
    assert.equal(parseLevel('{"level":50,"msg":"boom"}'), 'error');
    assert.equal(parseLevel('{"level":"debug","msg":"x"}'), 'debug');
    assert.equal(parseLevel('E0130 12:00:01.000 1 cam.cc:12] lost'), 'error');
    assert.equal(parseLevel('2026-11-30 12:00:00 [WARN] camera slow'), 'warn');
    assert.equal(parseLevel('ts=1 level=trace msg=tick'), 'trace');
    assert.equal(parseLevel('CRITICAL: disk gone'), 'fatal');
    assert.equal(parseLevel('frame 12 decoded'), 'info');
    assert.equal(parseLevel('information about errors'), 'info', 'words inside words do not count');
  });
});
