/**
 * The long-polls waiting on the fleet view's next change (fleet-view.ts), each about one
 * configuration (`<kind>\u0000<id>`, the view's cache key) or about any. A change to one edge's
 * configuration wakes that edge's own waiters, and those about any, not the fleet's: every edge
 * long-polls its configuration, so at 50,000 edges waking them all made 50,000 long-polls
 * resolve their configuration again for one edge's change.
 */
export class ChangeWaiters {
  readonly #any = new Set<() => void>();
  readonly #about = new Map<string, Set<() => void>>();
  #size = 0;

  /** Long-polls waiting now. */
  get size(): number {
    return this.#size;
  }

  /** Resolves when woken about `about` (or about everything), after `ms`, or when `signal` aborts. */
  wait(ms: number, signal?: AbortSignal, about?: string): Promise<void> {
    return new Promise((resolve) => {
      let set = this.#any;
      if (about !== undefined) {
        set = this.#about.get(about) ?? new Set();
        this.#about.set(about, set);
      }
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        if (set.delete(done)) this.#size--;
        if (about !== undefined && set.size === 0 && this.#about.get(about) === set)
          this.#about.delete(about);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
      this.#size++;
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Wakes the waiters about these keys and those about any; without keys, every waiter. */
  wake(about?: Iterable<string>): void {
    const woken = [...this.#any];
    if (about === undefined) for (const set of this.#about.values()) woken.push(...set);
    else for (const key of about) woken.push(...(this.#about.get(key) ?? []));
    for (const wake of woken) wake();
  }
}
