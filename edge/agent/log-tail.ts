/**
 * Following one log file, rotation-safe, by polling (no inotify on every board's kernel): each
 * `read()` returns the complete lines written since the last one. It starts at the file's end the
 * first time it sees a file (no flood of an old backlog), or at a remembered position (inode and
 * byte offset) when the same file is still there and at least that long — at the start of a file
 * that replaced the remembered one while the agent was away, or that did not exist yet. Rotation:
 * - rename + create (logrotate's default): the path names a new inode; the old file is read to
 *   its end through the descriptor still open (its last line kept even without a newline), then
 *   the new one from its start;
 * - copytruncate: the same inode got shorter than the position; reading starts again at 0.
 * A partial last line (no newline yet) is kept until its newline comes, or returned once it is
 * over `maxPartialBytes` (a writer that never ends its line cannot make the agent hold it all).
 */
import { type FileHandle, open, stat } from 'node:fs/promises';

/** Where a file was read to: its inode and the byte offset after the last complete line returned. */
export interface TailPosition {
  readonly ino: number;
  readonly pos: number;
}

export interface FileTailOptions {
  /** Resume here when the path still names this inode and the file is at least this long. */
  readonly resume?: TailPosition;
  /** A partial line longer than this is returned as it is (default 64 KiB). */
  readonly maxPartialBytes?: number;
  /** Bytes read per call at most (default 1 MiB): the rest waits for the next call. */
  readonly maxReadBytes?: number;
}

const CHUNK = 64 * 1024;

export class FileTail {
  readonly path: string;
  readonly #o: FileTailOptions;
  #file: FileHandle | undefined;
  #ino = -1;
  /** Offset of the next byte to read. */
  #pos = 0;
  #partial: Buffer = Buffer.alloc(0);
  #seen = false;

  constructor(path: string, options: FileTailOptions = {}) {
    this.path = path;
    this.#o = options;
  }

  /** The position after the last complete line returned (undefined before the file was opened). */
  get position(): TailPosition | undefined {
    return this.#file === undefined
      ? undefined
      : { ino: this.#ino, pos: this.#pos - this.#partial.byteLength };
  }

  /** The complete lines written since the last call (without their newlines). Never throws for a missing file. */
  async read(): Promise<Buffer[]> {
    const lines: Buffer[] = [];
    const now = await stat(this.path).catch(() => undefined);
    if (this.#file !== undefined && now !== undefined && now.ino !== this.#ino) {
      // Renamed away and a new file created: the rest of the old one first, its last line too.
      await this.#drain(lines, Number.POSITIVE_INFINITY);
      if (this.#partial.byteLength > 0) lines.push(this.#partial);
      await this.#close();
    }
    if (now === undefined) {
      // Between a rename and the new file: what the old one still gets.
      if (this.#file !== undefined) await this.#drain(lines, this.#o.maxReadBytes ?? 1024 * 1024);
      // Missing at first look: once it appears, all of it is new.
      this.#seen = true;
      return lines;
    }
    if (this.#file === undefined) {
      const file = await open(this.path, 'r').catch(() => undefined);
      if (file === undefined) return lines;
      const { ino, size } = await file.stat();
      const resume = this.#o.resume;
      this.#file = file;
      this.#ino = ino;
      // First sight: where we were when it is the same file; its start when it is a newer one (it
      // was rotated while the agent was away); its end when nothing is remembered. A file that
      // appeared later (rotation): its start.
      // (The same inode, now shorter than remembered, was truncated: its start too.)
      this.#pos = this.#seen
        ? 0
        : resume === undefined
          ? size
          : resume.ino === ino && resume.pos <= size
            ? resume.pos
            : 0;
      this.#seen = true;
    } else if (now.size < this.#pos) {
      // copytruncate: the same file, shorter. Start again; a partial line of the old content goes out.
      if (this.#partial.byteLength > 0) lines.push(this.#partial);
      this.#partial = Buffer.alloc(0);
      this.#pos = 0;
    }
    await this.#drain(lines, this.#o.maxReadBytes ?? 1024 * 1024);
    return lines;
  }

  /** Reads from the position to the end (at most `limit` bytes), splitting complete lines into `lines`. */
  async #drain(lines: Buffer[], limit: number): Promise<void> {
    const file = this.#file;
    if (file === undefined) return;
    const maxPartial = this.#o.maxPartialBytes ?? 64 * 1024;
    let read = 0;
    while (read < limit) {
      const buffer = Buffer.allocUnsafe(CHUNK);
      const { bytesRead } = await file.read(buffer, 0, CHUNK, this.#pos);
      if (bytesRead === 0) return;
      this.#pos += bytesRead;
      read += bytesRead;
      let data = Buffer.concat([this.#partial, buffer.subarray(0, bytesRead)]);
      for (let nl = data.indexOf(0x0a); nl !== -1; nl = data.indexOf(0x0a)) {
        const end = nl > 0 && data[nl - 1] === 0x0d ? nl - 1 : nl; // CRLF
        lines.push(Buffer.from(data.subarray(0, end)));
        data = data.subarray(nl + 1);
      }
      if (data.byteLength > maxPartial) {
        lines.push(Buffer.from(data));
        data = Buffer.alloc(0);
      }
      this.#partial = Buffer.from(data);
    }
  }

  async #close(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    this.#partial = Buffer.alloc(0);
    await file?.close().catch(() => {});
  }

  async close(): Promise<void> {
    await this.#close();
  }
}
