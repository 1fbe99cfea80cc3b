/**
 * The log shipper's on-disk buffer: one file per spilled batch in a folder the shipper owns,
 * named `<seq>-<lines>.ndjson` (seq: 16 digits, the batch's place in the order lines were pushed;
 * lines: how many records it holds), one LogRecord as JSON per line. A file is written as
 * `<name>.tmp` and renamed into place, so a process killed mid-write leaves no half file to replay
 * (the .tmp is removed by the next open). All I/O is async (node:fs/promises, libuv's threads) and
 * goes through one writer chain, so appends never block the event loop and never interleave.
 * The folder's total is bounded by `maxBytes`: `spill` writes the records that fit, in order,
 * and says how many it left out (the newest of the batch) — the caller counts them as dropped.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogRecord } from '../mod.ts';

export interface Segment {
  readonly seq: number;
  readonly lines: number;
  readonly bytes: number;
  readonly file: string;
}

const NAME = /^(\d{16})-(\d+)\.ndjson$/;

export interface SegmentContents {
  readonly records: LogRecord[];
  /** Lines that were not a JSON record (a disk fault; the file was renamed into place whole). */
  readonly unreadable: number;
}

export class DiskBuffer {
  readonly dir: string;
  readonly maxBytes: number;
  /** Complete files, in seq order. */
  readonly #segments: Segment[] = [];
  #bytes = 0;
  #lines = 0;
  #writer: Promise<unknown>;
  /** The seq of order 0: past every file found at open. */
  #base = 1;
  /** Set when the folder cannot be used: every spill is then dropped. */
  #broken: unknown;
  /** The last write's failure (the batch it held was dropped). */
  lastError: unknown;

  constructor(dir: string, maxBytes: number) {
    this.dir = dir;
    this.maxBytes = maxBytes;
    this.#writer = this.#open();
  }

  /** Bytes on disk and reserved for writes in progress. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Records on disk and in writes in progress. */
  get lines(): number {
    return this.#lines;
  }

  /** Resolves once the folder was scanned (or found unusable: `failure`). */
  async ready(): Promise<void> {
    await this.#writer;
  }

  get failure(): unknown {
    return this.#broken;
  }

  /** The oldest complete files, in order, holding at most `maxLines` records (at least one file). */
  oldest(maxLines: number): Segment[] {
    const out: Segment[] = [];
    let lines = 0;
    for (const s of this.#segments) {
      if (out.length > 0 && lines + s.lines > maxLines) break;
      out.push(s);
      lines += s.lines;
    }
    return out;
  }

  /** The `order` that `spill` places at `segment`'s place (to write its records there again). */
  orderOf(segment: Segment): number {
    return segment.seq - this.#base;
  }

  get segments(): number {
    return this.#segments.length;
  }

  /**
   * Writes `records` as one file, placed by `order` (the batch's number in the shipper's order,
   * increasing; files found at open come before every one of this run). Returns at once; the
   * records are serialised and written in the writer's turn, so the caller's stack does no
   * more than count them. Of the records, those that fit under `maxBytes` are written (a
   * prefix: the newest are left out, `dropped`); `lost` is the number written in vain when the
   * write failed (`lastError`). Until settled, the records count in `lines`.
   */
  spill(records: readonly LogRecord[], order: number): Promise<{ dropped: number; lost: number }> {
    this.#lines += records.length;
    const write = async (): Promise<{ dropped: number; lost: number }> => {
      if (this.#broken !== undefined) {
        this.#lines -= records.length;
        return { dropped: records.length, lost: 0 };
      }
      const lines: string[] = [];
      let bytes = 0;
      let dropped = records.length;
      try {
        for (const r of records) {
          const line = `${JSON.stringify(r)}\n`;
          const size = Buffer.byteLength(line);
          if (this.#bytes + bytes + size > this.maxBytes) break;
          lines.push(line);
          bytes += size;
        }
        dropped = records.length - lines.length;
        this.#lines -= dropped;
        if (lines.length === 0) return { dropped, lost: 0 };
        this.#bytes += bytes;
        const seq = this.#base + order;
        const file = join(this.dir, `${String(seq).padStart(16, '0')}-${lines.length}.ndjson`);
        try {
          await writeFile(`${file}.tmp`, lines.join(''));
          await rename(`${file}.tmp`, file);
        } catch (error) {
          this.#bytes -= bytes;
          await rm(`${file}.tmp`, { force: true }).catch(() => {});
          throw error;
        }
        const segment = { seq, lines: lines.length, bytes, file };
        const at = this.#segments.findIndex((s) => s.seq > seq);
        if (at < 0) this.#segments.push(segment);
        else this.#segments.splice(at, 0, segment);
        return { dropped, lost: 0 };
      } catch (error) {
        // A full or failing disk (or a record JSON cannot write): this batch is lost, the next may fit.
        this.#lines -= records.length - dropped;
        this.lastError = error;
        return { dropped, lost: records.length - dropped };
      }
    };
    const result = this.#writer.then(write);
    this.#writer = result;
    return result;
  }

  /** The records of `segment` (read through the writer chain's files, never a .tmp). */
  async read(segment: Segment): Promise<SegmentContents> {
    const text = await readFile(segment.file, 'utf8');
    const records: LogRecord[] = [];
    let unreadable = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        const value: unknown = JSON.parse(line);
        if (typeof value === 'object' && value !== null) records.push(value as LogRecord);
        else unreadable++;
      } catch {
        unreadable++;
      }
    }
    return { records, unreadable };
  }

  /** Deletes acknowledged files (the oldest ones, as `oldest` gave them). */
  async remove(done: readonly Segment[]): Promise<void> {
    for (const s of done) {
      await rm(s.file, { force: true });
      const at = this.#segments.indexOf(s);
      if (at >= 0) this.#segments.splice(at, 1);
      this.#bytes -= s.bytes;
      this.#lines -= s.lines;
    }
  }

  /** Waits for every write queued so far. */
  async settled(): Promise<void> {
    let seen: Promise<unknown>;
    do {
      seen = this.#writer;
      await seen;
    } while (seen !== this.#writer);
  }

  async #open(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
      const found: Segment[] = [];
      for (const name of await readdir(this.dir)) {
        if (name.endsWith('.tmp')) {
          await rm(join(this.dir, name), { force: true });
          continue;
        }
        const m = NAME.exec(name);
        if (m === null) continue;
        const file = join(this.dir, name);
        const { size } = await stat(file);
        found.push({ seq: Number(m[1]), lines: Number(m[2]), bytes: size, file });
      }
      found.sort((a, b) => a.seq - b.seq);
      for (const s of found) {
        this.#segments.push(s);
        this.#bytes += s.bytes;
        this.#lines += s.lines;
      }
      this.#base = (found.at(-1)?.seq ?? 0) + 1;
    } catch (error) {
      this.#broken = error;
    }
  }
}
