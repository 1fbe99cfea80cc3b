/**
 * Micro-batching: items submitted one by one (a job's frames) are gathered into one `run` call —
 * as soon as `maxBatch` are waiting, or when the oldest has waited `maxWaitMs` ("largest batch,
 * longest wait"). One run at a time: what arrives while a batch runs waits for the next, which
 * starts at once if it is full or its oldest item is already due. A run that throws is run again
 * item by item, so that an item that breaks it rejects only itself; the batcher goes on.
 */

export interface BatchInfo {
  /** Items in the run this item was part of. */
  readonly size: number;
  /** When the run began and how long it took (ms). */
  readonly startedAt: number;
  readonly ms: number;
}

export interface MicroBatcherOptions<I, O> {
  readonly maxBatch: number;
  readonly maxWaitMs: number;
  /** Runs one batch: one result per item, in order. */
  readonly run: (items: I[]) => Promise<readonly O[]>;
  /** Called after each run that returned (for stats). */
  readonly onBatch?: (info: BatchInfo) => void;
}

interface Pending<I, O> {
  readonly item: I;
  readonly at: number;
  readonly resolve: (value: { result: O; batch: BatchInfo }) => void;
  readonly reject: (error: unknown) => void;
}

export class MicroBatcher<I, O> {
  readonly #o: MicroBatcherOptions<I, O>;
  readonly #pending: Pending<I, O>[] = [];
  #running: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: MicroBatcherOptions<I, O>) {
    const { maxBatch, maxWaitMs } = options;
    if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > 1024)
      throw new RangeError(`Cannot batch: maxBatch must be an integer 1..1024, got ${maxBatch}`);
    if (!Number.isFinite(maxWaitMs) || maxWaitMs < 0 || maxWaitMs > 60_000)
      throw new RangeError(`Cannot batch: maxWaitMs must be 0..60000, got ${maxWaitMs}`);
    this.#o = options;
  }

  /** Items waiting for a run. */
  get waiting(): number {
    return this.#pending.length;
  }

  /** Resolves with the item's result and the batch it ran in. */
  submit(item: I): Promise<{ result: O; batch: BatchInfo }> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ item, at: performance.now(), resolve, reject });
      this.#schedule();
    });
  }

  /** Runs what is waiting now, without waiting for more; resolves when no run is in flight. */
  async drain(): Promise<void> {
    while (this.#running !== undefined || this.#pending.length > 0) {
      if (this.#running === undefined) this.#flush();
      await this.#running;
    }
  }

  #schedule(): void {
    if (this.#running !== undefined || this.#pending.length === 0) return;
    const oldest = this.#pending[0]!.at;
    const due = oldest + this.#o.maxWaitMs - performance.now();
    if (this.#pending.length >= this.#o.maxBatch || due <= 0) {
      this.#flush();
      return;
    }
    if (this.#timer === undefined)
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#schedule();
      }, Math.ceil(due));
  }

  #flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending.splice(0, this.#o.maxBatch);
    this.#running = this.#runBatch(batch).finally(() => {
      this.#running = undefined;
      this.#schedule();
    });
  }

  async #runBatch(batch: Pending<I, O>[]): Promise<void> {
    const startedAt = Date.now();
    const t0 = performance.now();
    let results: readonly O[];
    try {
      results = await this.#o.run(batch.map((p) => p.item));
      if (results.length !== batch.length)
        throw new Error(`a batch of ${batch.length} gave ${results.length} results`);
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // One item may be what broke the run: each alone, so that it fails only itself.
      for (const p of batch) await this.#runBatch([p]);
      return;
    }
    const info: BatchInfo = { size: batch.length, startedAt, ms: performance.now() - t0 };
    this.#o.onBatch?.(info);
    for (const [i, p] of batch.entries()) p.resolve({ result: results[i] as O, batch: info });
  }
}
