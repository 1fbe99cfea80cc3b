/**
 * The agent's frame queue on disk, without servers: what a capture takes from elenet's source
 * (the newest fresh JPEGs; not a text file, not an old or an oversized one), the bound (the oldest
 * events' frames dropped, counted) and what a restart finds (complete frames in order; a torn
 * temporary copy removed).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FrameQueue } from './frame-queue.ts';

const root = mkdtempSync(join(tmpdir(), 'dh-frame-queue-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** `size` bytes that start like a JPEG, filled with `fill`. */
const jpegLike = (size: number, fill: number) => {
  const bytes = Buffer.alloc(size, fill);
  bytes.set([0xff, 0xd8, 0xff, 0xe0]);
  return bytes;
};

function place(dir: string, name: string, bytes: Buffer, ageMs = 0): void {
  writeFileSync(join(dir, name), bytes);
  const at = new Date(Date.now() - ageMs);
  utimesSync(join(dir, name), at, at);
}

describe('frame queue', () => {
  it('takes the newest fresh JPEGs of the source, skipping what is no frame', () => {
    const source = join(root, 'a', 'source');
    mkdirSync(source, { recursive: true });
    place(source, 'newest.jpg', jpegLike(1000, 1), 0);
    place(source, 'second.JPEG', jpegLike(1000, 2), 1000);
    place(source, 'third.jpg', jpegLike(1000, 3), 2000);
    place(source, 'stale.jpg', jpegLike(1000, 4), 60_000);
    place(source, 'huge.jpg', jpegLike(5000, 5), 0);
    place(source, 'fake.jpg', Buffer.from('GIF89a, not a JPEG'), 0);
    const queue = new FrameQueue(join(root, 'a', 'data'), {
      source,
      maxFrames: 2,
      maxAgeMs: 30_000,
      maxFrameBytes: 4096,
    });
    const event = queue.capture(Date.now());
    assert.equal(event?.frames, 2);
    assert.equal(queue.length, 2);
    assert.equal(queue.skipped, 3, 'stale, huge and fake');
    const first = queue.peek();
    assert.equal(first?.index, 0);
    assert.equal(queue.read(first!)[4], 1, 'index 0 is the newest frame');
    // A single file as the source, and a source that is not there yet.
    const file = new FrameQueue(join(root, 'a', 'data2'), { source: join(source, 'third.jpg') });
    assert.equal(file.capture(Date.now())?.frames, 1);
    const none = new FrameQueue(join(root, 'a', 'data3'), { source: join(root, 'missing') });
    assert.equal(none.capture(Date.now()), undefined);
    assert.throws(
      () => new FrameQueue(join(root, 'a', 'data4'), { source, maxFrames: 5 }),
      /maxFrames must be 1\.\.4/,
    );
  });

  it('drops the oldest events’ frames past its bound and finds the rest after a restart', () => {
    const source = join(root, 'b', 'source');
    const data = join(root, 'b', 'data');
    mkdirSync(source, { recursive: true });
    const options = { source, maxFrameBytes: 1000, maxBytes: 2500 };
    const queue = new FrameQueue(data, options);
    const events: string[] = [];
    // All four in one millisecond: their ids must still sort in the order they were taken.
    const now = Date.now();
    for (let i = 0; i < 4; i++) {
      place(source, 'frame.jpg', jpegLike(1000, i), 0);
      events.push(queue.capture(now)!.eventId);
    }
    assert.equal(queue.length, 2);
    assert.equal(queue.dropped, 2);
    assert.equal(queue.bytes, 2000);
    assert.deepEqual(
      readdirSync(join(data, 'frames')).sort(),
      events.slice(2).sort(),
      'the oldest two are gone',
    );
    // A copy torn by a crash, and a stray file: removed on load, the complete frames kept in order.
    writeFileSync(join(data, 'frames', events[3]!, '1.jpg.tmp'), 'torn');
    writeFileSync(join(data, 'frames', events[3]!, 'stray'), 'x');
    const reopened = new FrameQueue(data, options);
    assert.equal(reopened.length, 2);
    assert.equal(reopened.peek()?.eventId, events[2]);
    assert.ok(!existsSync(join(data, 'frames', events[3]!, '1.jpg.tmp')));
    reopened.remove(reopened.peek()!);
    assert.ok(!existsSync(join(data, 'frames', events[2]!)), 'an event’s folder goes with its last frame');
    assert.equal(reopened.peek()?.eventId, events[3]);
  });
});
