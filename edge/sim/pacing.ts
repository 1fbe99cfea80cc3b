/**
 * The simulator's pace: edge i lives its second s at s + i/edges seconds (spread over the second,
 * not all at once), at `speed` simulated seconds per real second, in (second, edge) order. It stops
 * advancing while more than `maxInFlight` messages wait for their broker's acknowledgement, so an
 * overloaded broker slows the fleet down rather than being buried; `behindMs` then grows.
 */

const TICK_MS = 10;

export interface PaceOptions {
  readonly edges: number;
  readonly speed: number;
  readonly maxInFlight: number;
  /** Read for `inFlight`; `behindMs` is written after each tick. */
  readonly stats: { readonly inFlight: number; behindMs: number };
  /** Edge `i` lives its next second. */
  readonly step: (i: number, now: number) => void;
  /** After each tick (the Kafka batches go out). */
  readonly afterTick: () => void;
}

/** Starts the fleet's days now; `stop` ends them. */
export function pace(o: PaceOptions): { stop(): void } {
  const { edges, speed, maxInFlight, stats } = o;
  const start = Date.now();
  let cursor = 0;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = () => {
    if (stopped) return;
    const now = Date.now();
    while (stats.inFlight < maxInFlight) {
      const second = Math.floor(cursor / edges);
      const i = cursor % edges;
      const due = start + (second * 1000 + (i * 1000) / edges) / speed;
      if (due > now) break;
      o.step(i, now);
      cursor++;
    }
    const next = start + (Math.floor(cursor / edges) * 1000 + ((cursor % edges) * 1000) / edges) / speed;
    stats.behindMs = Math.max(0, now - next);
    o.afterTick();
    timer = setTimeout(tick, TICK_MS);
  };
  tick();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
