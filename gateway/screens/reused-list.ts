/**
 * A list that keeps its storage from one tick to the next: what changed in a scope, and the scopes
 * that changed, since the screen model's last tick. A Set made (or cleared) each tick gave its
 * table back and grew it again, rehashing at each doubling; at 50,000 edges those tables lived a
 * tick (250 ms), long enough to be promoted: ~67 MB in 15 s, a sixth of what the
 * gateway promoted (bench/survivors.ts). The caller keeps an item from being pushed twice (a mark
 * of its own).
 */
export class ReusedList<T> {
  readonly #items: (T | undefined)[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(item: T): void {
    this.#items[this.#size++] = item;
  }

  /** Calls `each` with every item in the order pushed, then empties the list (`each` may not push). */
  drain(each: (item: T) => void): void {
    const items = this.#items;
    const n = this.#size;
    try {
      for (let i = 0; i < n; i++) {
        const item = items[i] as T;
        items[i] = undefined; // a record removed from the model is not held here until overwritten
        each(item);
      }
    } finally {
      this.#size = 0;
    }
  }
}
