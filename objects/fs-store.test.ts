/** The filesystem store: the shared ObjectStore contract, plus what only a folder on disk has. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { FsObjectStore } from './fs-store.ts';
import { objectStoreContract } from './object-store.case.ts';
import { openObjectStore } from './open-store.ts';

const root = mkdtempSync(join(tmpdir(), 'dh-objects-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

objectStoreContract('filesystem', () => openObjectStore(pathToFileURL(join(root, `s${++n}`)).href));

describe('the filesystem store', () => {
  test('opens from file:///abs/dir and removes temporary files left by a crash', async () => {
    const dir = join(root, 'crashed');
    await using first = await openObjectStore(pathToFileURL(dir).href);
    assert.ok(first instanceof FsObjectStore);
    writeFileSync(join(dir, '.tmp', 'left-over'), 'half a file');
    await using second = await openObjectStore(pathToFileURL(dir).href);
    assert.equal(second.kind, 'fs');
    assert.deepEqual(readdirSync(join(dir, '.tmp')), []);
  });

  test('URLs it cannot open are refused with INVALID_URL', async () => {
    for (const url of [
      'file://otherhost/dir',
      'ftp://x/y',
      'objects',
      's3://UPPER?endpoint=http://x',
      's3://bucket/path',
      's3://bucket?endpoint=ftp://x',
      's3://bucket?forcePathStyle=yes',
      's3://bucket?color=red',
      's3://key:secret@bucket',
    ])
      await assert.rejects(
        openObjectStore(url),
        (err: Error & { code?: string }) => err.code === 'INVALID_URL',
        url,
      );
  });
});
