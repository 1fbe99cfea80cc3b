/**
 * The agent's frame queue: the candidate JPEGs of vision events waiting to be uploaded, on disk
 * (`<dataDir>/frames/<eventId>/<index>.jpg`) so a restart or an outage loses none. A capture
 * copies the frames elenet left in its local input — the newest JPEGs of a configured directory
 * (or one file), written within `maxAgeMs` of the alarm — each at most `maxFrameBytes` and
 * starting like a JPEG, through a temporary file and a rename (a torn copy is never queued).
 * Bounded like the message queue: past `maxBytes` the oldest events' frames go first; drops are
 * counted.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';

/** Where the candidate frames come from, and how many of them an event takes. */
export interface FrameSourceOptions {
  /** A directory elenet writes its frames into (the newest `*.jpg`/`*.jpeg` are taken), or one file. */
  readonly source: string;
  /** Frames per event, newest first (1..4; default 1). */
  readonly maxFrames?: number;
  /** Only frames written this long before the alarm or later (default 30 s): an old one is not the alarm's. */
  readonly maxAgeMs?: number;
  /** The largest frame taken (default 2 MiB, the gateway's bound). */
  readonly maxFrameBytes?: number;
  /** What the queue holds on disk at most (default 32 MiB). */
  readonly maxBytes?: number;
}

/** One queued frame. */
export interface QueuedFrame {
  readonly eventId: string;
  readonly index: number;
  readonly file: string;
  readonly size: number;
}

const FRAME_FILE = /^([0-3])\.jpg$/;
const EVENT_DIR = /^[A-Za-z0-9_-]{1,64}$/;

export class FrameQueue {
  readonly #dir: string;
  readonly #o: Required<FrameSourceOptions>;
  /** Oldest first. */
  #frames: QueuedFrame[] = [];
  #bytes = 0;
  /** The time part of the last event id: ids made within one millisecond still sort in order. */
  #lastAt = 0;
  /** Frames dropped by the bound, and candidates skipped (too old, too large, not a JPEG). */
  dropped = 0;
  skipped = 0;

  constructor(dataDir: string, options: FrameSourceOptions) {
    const o = {
      maxFrames: 1,
      maxAgeMs: 30_000,
      maxFrameBytes: 2 * 1024 * 1024,
      maxBytes: 32 * 1024 * 1024,
      ...options,
    };
    if (!(Number.isInteger(o.maxFrames) && o.maxFrames >= 1 && o.maxFrames <= 4))
      throw new RangeError(`Cannot queue frames: maxFrames must be 1..4, got ${o.maxFrames}`);
    if (!(o.maxBytes >= o.maxFrameBytes))
      throw new RangeError(
        `Cannot queue frames: maxBytes must be ≥ maxFrameBytes (${o.maxFrameBytes}), got ${o.maxBytes}`,
      );
    this.#o = o;
    this.#dir = join(dataDir, 'frames');
    mkdirSync(this.#dir, { recursive: true });
    this.#load();
  }

  get length(): number {
    return this.#frames.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The oldest frame waiting. */
  peek(): QueuedFrame | undefined {
    return this.#frames[0];
  }

  /**
   * Copies the candidate frames for an alarm at `now` into the queue under a new event id: the id
   * and how many were taken, or undefined when there are none (the alarm goes without frames).
   */
  capture(now: number): { eventId: string; frames: number } | undefined {
    const candidates = this.#candidates(now);
    if (candidates.length === 0) return undefined;
    // Sortable by time (the queue's order after a restart), unique by its random part. Two
    // events of one millisecond would sort by the random part: the later one takes the next.
    const at = Math.max(Math.trunc(now), this.#lastAt + 1);
    this.#lastAt = at;
    const eventId = `${at.toString(36).padStart(9, '0')}-${randomBytes(6).toString('hex')}`;
    const folder = join(this.#dir, eventId);
    mkdirSync(folder, { recursive: true });
    let index = 0;
    for (const from of candidates) {
      const file = join(folder, `${index}.jpg`);
      try {
        copyFileSync(from.path, `${file}.tmp`);
        renameSync(`${file}.tmp`, file);
      } catch {
        this.skipped++; // removed or replaced by elenet meanwhile
        continue;
      }
      this.#push({ eventId, index, file, size: statSync(file).size });
      index++;
    }
    if (index === 0) {
      rmSync(folder, { recursive: true, force: true });
      return undefined;
    }
    this.#bound();
    return { eventId, frames: index };
  }

  /** Removes `frame` (uploaded, or refused for good), and its event's folder once empty. */
  remove(frame: QueuedFrame): void {
    const at = this.#frames.indexOf(frame);
    if (at === -1) return;
    this.#frames.splice(at, 1);
    this.#bytes -= frame.size;
    rmSync(frame.file, { force: true });
    if (!this.#frames.some((f) => f.eventId === frame.eventId))
      rmSync(join(this.#dir, frame.eventId), { recursive: true, force: true });
  }

  /** The newest JPEGs of the source written within maxAgeMs of `now`, newest first, at most maxFrames. */
  #candidates(now: number): { path: string; mtimeMs: number }[] {
    const { source, maxFrames, maxAgeMs, maxFrameBytes } = this.#o;
    let paths: string[];
    try {
      paths = statSync(source).isDirectory()
        ? readdirSync(source)
            .filter((n) => /\.jpe?g$/i.test(n))
            .map((n) => join(source, n))
        : [source];
    } catch {
      return []; // no source (yet): elenet has written nothing
    }
    const fresh: { path: string; mtimeMs: number }[] = [];
    for (const path of paths) {
      try {
        const s = statSync(path);
        if (!s.isFile()) continue;
        if (s.mtimeMs < now - maxAgeMs || s.size > maxFrameBytes || !startsLikeJpeg(path)) {
          this.skipped++;
          continue;
        }
        fresh.push({ path, mtimeMs: s.mtimeMs });
      } catch {
        this.skipped++;
      }
    }
    return fresh.sort((a, b) => b.mtimeMs - a.mtimeMs).slice(0, maxFrames);
  }

  #push(frame: QueuedFrame): void {
    this.#frames.push(frame);
    this.#bytes += frame.size;
  }

  /** Past maxBytes: the oldest frames go (the newest event's always stay). */
  #bound(): void {
    while (this.#bytes > this.#o.maxBytes && this.#frames.length > 1) {
      this.remove(this.#frames[0]!);
      this.dropped++;
    }
  }

  /** What an earlier run left: every complete frame file, oldest event first (torn copies and strays removed). */
  #load(): void {
    // Event ids start with their time (base 36, fixed width): their order is the captures'.
    const events = readdirSync(this.#dir)
      .filter((n) => EVENT_DIR.test(n))
      .sort();
    for (const eventId of events) {
      const folder = join(this.#dir, eventId);
      const names = readdirSync(folder).sort();
      for (const name of names) {
        const file = join(folder, name);
        const match = FRAME_FILE.exec(name);
        if (match === null) {
          rmSync(file, { force: true });
          continue;
        }
        this.#push({ eventId, index: Number(match[1]), file, size: statSync(file).size });
      }
      if (!this.#frames.some((f) => f.eventId === eventId)) rmSync(folder, { recursive: true, force: true });
    }
    this.#bound();
  }

  /** The bytes of `frame` (read when it is uploaded: at most maxFrameBytes). */
  read(frame: QueuedFrame): Buffer {
    return readFileSync(frame.file);
  }
}

/** Whether `path` starts with a JPEG's first bytes (FF D8 FF). */
function startsLikeJpeg(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(3);
    return readSync(fd, head, 0, 3, 0) === 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
  } finally {
    closeSync(fd);
  }
}
