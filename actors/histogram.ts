/**
 * A latency histogram with ~3% relative precision (32 sub-buckets per power of two), cheap to
 * record into, mergeable across processes as JSON.
 */
const SUB = 32;

export interface HistogramJSON {
  /** [bucketIndex, count] pairs of the non-empty buckets. */
  readonly buckets: [number, number][];
  readonly count: number;
  readonly max: number;
}

export class Histogram {
  #counts = new Map<number, number>();
  #count = 0;
  #max = 0;

  /** Records a value (e.g. microseconds); negative values count as 0. */
  record(value: number): void {
    const v = Math.max(value, 0);
    const index = bucketOf(v);
    this.#counts.set(index, (this.#counts.get(index) ?? 0) + 1);
    this.#count++;
    if (v > this.#max) this.#max = v;
  }

  get count(): number {
    return this.#count;
  }

  get max(): number {
    return this.#max;
  }

  /** The value at quantile q (0..1): the upper bound of the bucket holding it. */
  quantile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.ceil(q * this.#count);
    let seen = 0;
    for (const index of [...this.#counts.keys()].sort((a, b) => a - b)) {
      seen += this.#counts.get(index)!;
      if (seen >= rank) return Math.min(upperBound(index), this.#max);
    }
    return this.#max;
  }

  merge(other: HistogramJSON): this {
    for (const [index, count] of other.buckets)
      this.#counts.set(index, (this.#counts.get(index) ?? 0) + count);
    this.#count += other.count;
    if (other.max > this.#max) this.#max = other.max;
    return this;
  }

  reset(): void {
    this.#counts.clear();
    this.#count = 0;
    this.#max = 0;
  }

  toJSON(): HistogramJSON {
    return { buckets: [...this.#counts.entries()], count: this.#count, max: this.#max };
  }

  static from(json: HistogramJSON): Histogram {
    return new Histogram().merge(json);
  }
}

function bucketOf(v: number): number {
  if (v < 1) return 0;
  const exp = Math.floor(Math.log2(v));
  const base = 2 ** exp;
  return 1 + exp * SUB + Math.floor(((v - base) / base) * SUB);
}

function upperBound(index: number): number {
  if (index === 0) return 1;
  const exp = Math.floor((index - 1) / SUB);
  const sub = (index - 1) % SUB;
  const base = 2 ** exp;
  return base + ((sub + 1) * base) / SUB;
}

/** The values recorded in `later` but not in `earlier` (two snapshots of one histogram). */
export function histogramDelta(later: HistogramJSON, earlier: HistogramJSON | undefined): HistogramJSON {
  if (earlier === undefined) return later;
  const before = new Map(earlier.buckets);
  const buckets: [number, number][] = [];
  for (const [index, count] of later.buckets) {
    const n = count - (before.get(index) ?? 0);
    if (n > 0) buckets.push([index, n]);
  }
  return { buckets, count: later.count - earlier.count, max: later.max };
}
