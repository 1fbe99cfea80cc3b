/**
 * For the logs routes' tests of what a real store cannot be made to do on cue: a `LogStore` in
 * memory whose queries are recorded, whose tails are fed by the test (`emit`) and report their
 * abort, and which can be told to fail (`failWith`).
 */
import {
  type LogPage,
  type LogQuery,
  type LogRecord,
  type LogStore,
  LogStoreError,
  levelsAtLeast,
  type TailFilter,
} from '../../../logs/mod.ts';

interface Tail {
  readonly filter: TailFilter;
  readonly queue: LogRecord[];
  wake: (() => void) | undefined;
  aborted: boolean;
}

function matches(r: LogRecord, f: TailFilter): boolean {
  if (f.edgeId !== undefined && r.edgeId !== f.edgeId) return false;
  if (f.service !== undefined && r.service !== f.service) return false;
  if (f.level !== undefined && !levelsAtLeast(f.level).includes(r.level)) return false;
  if (f.text !== undefined && !f.text.split(/\s+/).every((w) => r.msg.includes(w))) return false;
  return true;
}

export class FakeLogStore implements LogStore {
  readonly kind = 'fake';
  readonly records: LogRecord[] = [];
  readonly queries: LogQuery[] = [];
  readonly tails: Tail[] = [];
  #failure: LogStoreError | undefined;

  /** Forgets the records, queries and tails, and works again. */
  reset(): void {
    for (const t of this.tails) t.aborted = true;
    this.records.length = 0;
    this.queries.length = 0;
    this.tails.length = 0;
    this.#failure = undefined;
  }

  /** Every later call, and every open tail, throws `error` (undefined: works again). */
  failWith(error: LogStoreError | undefined): void {
    this.#failure = error;
    for (const t of this.tails) t.wake?.();
  }

  async write(records: readonly LogRecord[]): Promise<void> {
    if (this.#failure) throw this.#failure;
    this.records.push(...records);
  }

  async query(q: LogQuery): Promise<LogPage> {
    this.queries.push(q);
    if (this.#failure) throw this.#failure;
    if (q.cursor !== undefined && !/^o\d+$/.test(q.cursor))
      throw new LogStoreError('BAD_QUERY', 'cursor: unreadable');
    const offset = q.cursor === undefined ? 0 : Number(q.cursor.slice(1));
    const all = this.records
      .filter((r) => r.time >= q.from && r.time <= q.to && matches(r, q))
      .sort((a, b) => b.time - a.time);
    const records = all.slice(offset, offset + q.limit);
    return offset + q.limit < all.length ? { records, next: `o${offset + q.limit}` } : { records };
  }

  /** Sends `record` to every open tail whose filter it matches. */
  emit(record: LogRecord): void {
    for (const t of this.tails)
      if (!t.aborted && matches(record, t.filter)) {
        t.queue.push(record);
        t.wake?.();
      }
  }

  async *tail(filter: TailFilter, signal: AbortSignal): AsyncIterable<LogRecord> {
    if (this.#failure) throw this.#failure;
    const tail: Tail = { filter, queue: [], wake: undefined, aborted: false };
    this.tails.push(tail);
    signal.addEventListener('abort', () => {
      tail.aborted = true;
      tail.wake?.();
    });
    while (!signal.aborted) {
      const next = tail.queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.#failure) throw this.#failure;
      await new Promise<void>((resolve) => {
        tail.wake = resolve;
      });
      tail.wake = undefined;
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {}
}
