/**
 * How a screen read model starts, and reads its edges again: the checkpointed state of every
 * registered edge's actor, read from Redis in pages (one round trip per `page` edges, one HMGET
 * per shard), as `readEdgeViews` reads a page of edges for the API. A state that does not parse
 * counts as none (the tile shows the edge offline until its next event).
 */
import { readCheckpoints } from '../../actors/mod.ts';
import type { Bus } from '../../bus/mod.ts';
import type { EdgeState } from '../../edge/mod.ts';

/**
 * Hands each page of states to `each` as it arrives, so what it takes from them is taken before
 * the next is read: 50,000 edges' states (a legacy shadow is ~1.3 KB of JSON) gathered first and
 * applied after lived through the whole read, and the gateway's collector copied and promoted them
 * all — a 70–100 ms scavenge, the slowest second of a wall-screen run, at every read again.
 */
export async function forEachStatePage(
  bus: Bus,
  ids: readonly string[],
  each: (states: Map<string, EdgeState | undefined>) => void,
  page = 1000,
): Promise<void> {
  for (let i = 0; i < ids.length; i += page) {
    const chunk = ids.slice(i, i + page);
    const replies = await readCheckpoints(
      bus,
      chunk.map((id) => `edge/${id}`),
    );
    const states = new Map<string, EdgeState | undefined>();
    chunk.forEach((id, k) => {
      const raw = replies[k] ?? null;
      let state: EdgeState | undefined;
      try {
        state = raw === null ? undefined : (JSON.parse(raw) as { s: EdgeState }).s;
      } catch {
        state = undefined;
      }
      states.set(id, state);
    });
    each(states);
  }
}
