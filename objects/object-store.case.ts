/**
 * The contract every ObjectStore keeps, one suite run against each implementation
 * (`fs-store.test.ts`, `s3-store.test.ts`): put/get round trips (streamed bodies of several parts),
 * ranges, head, move, delete, list by prefix, replacing, not-found and bad-range errors, invalid
 * keys, and a failed or aborted put that leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { ObjectNotFoundError, ObjectStoreError, RangeNotSatisfiableError } from './errors.ts';
import type { ObjectStore } from './object-store.ts';

/** A fresh, empty store for one test, and how to throw it away. */
export type OpenStore = () => Promise<ObjectStore>;

export function objectStoreContract(name: string, open: OpenStore): void {
  describe(`ObjectStore contract: ${name}`, () => {
    test('put then get returns the same bytes, streamed in parts, with size and content type', async () => {
      await using store = await open();
      const parts = [randomBytes(3 * 1024 * 1024), randomBytes(5 * 1024 * 1024 + 17), randomBytes(1)];
      const info = await store.put('artifacts/sha256/a1', chunks(parts), {
        contentType: 'application/x-tar',
      });
      const whole = Buffer.concat(parts);
      assert.deepEqual(info, {
        key: 'artifacts/sha256/a1',
        size: whole.length,
        contentType: 'application/x-tar',
      });
      const read = await store.get('artifacts/sha256/a1');
      assert.equal(read.info.size, whole.length);
      assert.equal(read.info.contentType, 'application/x-tar');
      assert.equal(read.range, undefined);
      assert.equal(sha256(await collect(read.body)), sha256(whole));
      assert.deepEqual(await store.head('artifacts/sha256/a1'), info);
    });

    test('a web ReadableStream body and an empty body are stored', async () => {
      await using store = await open();
      const bytes = randomBytes(1000);
      await store.put('uploads/web', new Blob([bytes]).stream());
      assert.deepEqual(await collect((await store.get('uploads/web')).body), bytes);
      const empty = await store.put('uploads/empty', chunks([]));
      assert.equal(empty.size, 0);
      assert.equal((await collect((await store.get('uploads/empty')).body)).length, 0);
    });

    test('ranges: a slice, an open end, an end past the object, and a start past it (416)', async () => {
      await using store = await open();
      const bytes = randomBytes(10_000);
      await store.put('clips/e1/x', chunks([bytes]));
      const slice = await store.get('clips/e1/x', { range: { start: 100, end: 199 } });
      assert.deepEqual(slice.range, { start: 100, end: 199 });
      assert.equal(slice.info.size, 10_000);
      assert.deepEqual(await collect(slice.body), bytes.subarray(100, 200));
      const tail = await store.get('clips/e1/x', { range: { start: 9990 } });
      assert.deepEqual(tail.range, { start: 9990, end: 9999 });
      assert.deepEqual(await collect(tail.body), bytes.subarray(9990));
      const past = await store.get('clips/e1/x', { range: { start: 5, end: 50_000 } });
      assert.deepEqual(past.range, { start: 5, end: 9999 });
      assert.deepEqual(await collect(past.body), bytes.subarray(5));
      await assert.rejects(
        store.get('clips/e1/x', { range: { start: 10_000 } }),
        (err) =>
          err instanceof RangeNotSatisfiableError &&
          err.size === 10_000 &&
          err.code === 'RANGE_NOT_SATISFIABLE',
      );
    });

    test('a missing key: get and move throw ObjectNotFoundError, head is undefined, delete is a no-op', async () => {
      await using store = await open();
      await assert.rejects(
        store.get('uploads/none'),
        (err) => err instanceof ObjectNotFoundError && err.code === 'NOT_FOUND',
      );
      await assert.rejects(store.move('uploads/none', 'uploads/other'), ObjectNotFoundError);
      assert.equal(await store.head('uploads/none'), undefined);
      await store.delete('uploads/none');
    });

    test('put replaces, move renames (replacing the target), delete removes', async () => {
      await using store = await open();
      await store.put('uploads/a', chunks([Buffer.from('first')]));
      await store.put('uploads/a', chunks([Buffer.from('second!')]));
      assert.equal((await collect((await store.get('uploads/a')).body)).toString(), 'second!');
      await store.put('artifacts/sha256/b', chunks([Buffer.from('old')]));
      await store.move('uploads/a', 'artifacts/sha256/b');
      assert.equal(await store.head('uploads/a'), undefined);
      assert.equal((await collect((await store.get('artifacts/sha256/b')).body)).toString(), 'second!');
      await store.delete('artifacts/sha256/b');
      assert.equal(await store.head('artifacts/sha256/b'), undefined);
      assert.deepEqual(await keys(store, ''), []);
    });

    test('list finds every key under a prefix, and only those', async () => {
      await using store = await open();
      const names = [
        'artifacts/sha256/aa',
        'artifacts/sha256/ab',
        'artifacts/sha256/b',
        'uploads/u1',
        'clips/e/1',
      ];
      for (const key of names) await store.put(key, chunks([Buffer.from(key)]));
      assert.deepEqual(await keys(store, 'artifacts/sha256/a'), [
        'artifacts/sha256/aa',
        'artifacts/sha256/ab',
      ]);
      assert.deepEqual(await keys(store, 'artifacts/'), [
        'artifacts/sha256/aa',
        'artifacts/sha256/ab',
        'artifacts/sha256/b',
      ]);
      assert.deepEqual(await keys(store, 'uploads/'), ['uploads/u1']);
      assert.deepEqual(await keys(store, ''), [...names].sort());
      assert.deepEqual(await keys(store, 'nothing/'), []);
      const sizes = [];
      for await (const info of store.list('clips/')) sizes.push(info.size);
      assert.deepEqual(sizes, [Buffer.byteLength('clips/e/1')]);
    });

    test('a body that fails, or an aborted put, stores nothing and keeps the old object', async () => {
      await using store = await open();
      await store.put('uploads/kept', chunks([Buffer.from('old')]));
      async function* failing() {
        yield randomBytes(6 * 1024 * 1024);
        throw new Error('client went away');
      }
      await assert.rejects(store.put('uploads/kept', failing()), /client went away/);
      const controller = new AbortController();
      async function* slow() {
        yield randomBytes(1024);
        controller.abort(new Error('stop'));
        yield randomBytes(1024);
      }
      await assert.rejects(store.put('uploads/aborted', slow(), { signal: controller.signal }));
      assert.equal((await collect((await store.get('uploads/kept')).body)).toString(), 'old');
      assert.deepEqual(await keys(store, ''), ['uploads/kept']);
    });

    test('invalid keys are refused with INVALID_KEY before anything is written', async () => {
      await using store = await open();
      for (const key of ['', '../etc/passwd', 'a//b', '/abs', 'a/./b', '.meta/x', 'a/b ', 'x'.repeat(600)]) {
        await assert.rejects(
          store.put(key, chunks([Buffer.from('x')])),
          (err) => err instanceof ObjectStoreError && err.code === 'INVALID_KEY',
          key,
        );
        await assert.rejects(
          store.get(key),
          (err) => err instanceof ObjectStoreError && err.code === 'INVALID_KEY',
        );
      }
      assert.deepEqual(await keys(store, ''), []);
    });
  });
}

/** A fresh key namespace per test where a store is shared (e.g. an S3 bucket per test). */
export const uniqueName = () => `t${randomUUID().replaceAll('-', '').slice(0, 20)}`;

async function* chunks(parts: Buffer[]): AsyncIterable<Uint8Array> {
  for (const part of parts) yield part;
}

async function collect(body: ReadableStream<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) out.push(Buffer.from(chunk));
  return Buffer.concat(out);
}

async function keys(store: ObjectStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const info of store.list(prefix)) out.push(info.key);
  return out.sort();
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
