/**
 * Frames to the screens' subscribers, a slice of writes at a time. A tick's deltas (and every
 * heartbeat) go to thousands of connections, one socket write each; written in one go they held
 * the event loop for tens of milliseconds four times a second, and the snapshot polls waited
 * behind them. Between slices the loop answers what came in (setImmediate runs after the poll
 * phase). One queue, first in first out, so each subscriber gets its frames in version order; a
 * subscriber that left its scope before its turn is skipped.
 */
import type { ScopeView, ScreenFrame, ScreenSubscriber } from './scope-view.ts';

interface Delivery {
  readonly scope: ScopeView;
  readonly subscriber: ScreenSubscriber;
  readonly frame: ScreenFrame;
}

export class FanOut {
  /** Writes per slice (each a socket write of a few tens of µs). */
  readonly slice: number;
  readonly #onError: (error: unknown) => void;
  /** Deliveries; a written one is let go (undefined) at once. */
  #queue: (Delivery | undefined)[] = [];
  #head = 0;
  #scheduled = false;
  #waiters: (() => void)[] = [];

  constructor(o: { slice?: number; onError: (error: unknown) => void }) {
    this.slice = o.slice ?? 64;
    this.#onError = o.onError;
  }

  /** Deliveries queued and not yet written. */
  get backlog(): number {
    return this.#queue.length - this.#head;
  }

  /** Queues `frame` for every subscriber `scope` has now. */
  push(scope: ScopeView, frame: ScreenFrame): void {
    for (const subscriber of scope.subscribers) this.#queue.push({ scope, subscriber, frame });
    this.#schedule();
  }

  /** Resolves once everything queued so far is written. */
  drained(): Promise<void> {
    if (this.backlog === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Drops what is queued (the model stops); waiters resolve. */
  clear(): void {
    this.#queue = [];
    this.#head = 0;
    for (const w of this.#waiters.splice(0)) w();
  }

  readonly #drain = (): void => {
    this.#scheduled = false;
    const end = Math.min(this.#queue.length, this.#head + this.slice);
    for (; this.#head < end; this.#head++) {
      const { scope, subscriber, frame } = this.#queue[this.#head]!;
      // A frame lives until its last subscriber has it, not until the whole queue has drained
      // (which, under load, spans several collections: it would be promoted).
      this.#queue[this.#head] = undefined;
      if (!scope.subscribers.has(subscriber)) continue;
      try {
        subscriber.send(frame);
      } catch (error) {
        this.#onError(error);
      }
    }
    if (this.backlog > 0) this.#schedule();
    else this.clear();
  };

  /** The next slice after the loop has answered what came in, unless one is due already. */
  #schedule(): void {
    if (this.#scheduled || this.backlog === 0) return;
    this.#scheduled = true;
    setImmediate(this.#drain);
  }
}
