/**
 * A subscriber that never lets a slow screen hold memory: while its connection has more than
 * MAX_BEHIND bytes waiting it gets no deltas, and once it has drained (below RESUME_AT) it gets
 * the scope's snapshot — the whole current state, so the deltas it missed do not matter. Used by
 * the SSE stream and the WebSocket alike; `out` is how each writes.
 */
import type { ScopeView, ScreenFrame, ScreenSubscriber } from './scope-view.ts';

export const MAX_BEHIND = 1024 * 1024;
export const RESUME_AT = 64 * 1024;

export interface FrameOutlet {
  write(frame: ScreenFrame): void;
  heartbeat(): void;
  /** Bytes written and not yet handed to the network. */
  buffered(): number;
}

export interface PacedStats {
  skipped: number;
  resyncs: number;
}

export class PacedSubscriber implements ScreenSubscriber {
  readonly #scope: ScopeView;
  readonly #out: FrameOutlet;
  readonly #stats: PacedStats;
  #behind = false;

  constructor(scope: ScopeView, out: FrameOutlet, stats: PacedStats) {
    this.#scope = scope;
    this.#out = out;
    this.#stats = stats;
  }

  get behind(): boolean {
    return this.#behind;
  }

  send(frame: ScreenFrame): void {
    if (this.#behind) {
      if (this.#out.buffered() > RESUME_AT) {
        if (frame.event === 'delta') this.#stats.skipped++;
        return;
      }
      this.resync();
      return;
    }
    if (frame.event === 'heartbeat') {
      this.#out.heartbeat();
      return;
    }
    if (this.#out.buffered() > MAX_BEHIND) {
      this.#behind = true;
      this.#stats.skipped++;
      return;
    }
    this.#out.write(frame);
  }

  /** The connection drained: back to deltas, after the snapshot, if it had fallen behind. */
  drained(): void {
    if (this.#behind && this.#out.buffered() <= RESUME_AT) this.resync();
  }

  resync(): void {
    this.#behind = false;
    this.#stats.resyncs++;
    this.#out.write(this.#scope.snapshot());
  }
}
