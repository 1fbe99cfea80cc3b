/**
 * How a screen read model starts, and reads its edges again: the checkpointed state of every
 * registered edge's actor, read from Redis a page of whole shards at a time (one HMGET per shard
 * in all, actors' forEachCheckpointPage), as `readEdgeViews` reads a page of edges for the API. A
 * state that does not parse counts as none (the tile shows the edge offline until its next event).
 */
import { forEachCheckpointPage } from '../../actors/mod.ts';
import type { Bus } from '../../bus/mod.ts';
import type { EdgeState } from '../../edge/mod.ts';

const PREFIX = 'edge/';

/**
 * Hands each page of states to `each` as it arrives (the ids grouped by shard), so what it takes
 * from them is taken before the next is read: 50,000 edges' states (a legacy shadow is ~1.3 KB of
 * JSON) gathered first and applied after lived through the whole read, and the gateway's collector
 * copied and promoted them all.
 */
export function forEachStatePage(
  bus: Bus,
  ids: readonly string[],
  each: (states: Map<string, EdgeState | undefined>) => void,
  page = 1000,
): Promise<void> {
  return forEachCheckpointPage(
    bus,
    ids.map((id) => `${PREFIX}${id}`),
    (addresses, checkpoints) => {
      const states = new Map<string, EdgeState | undefined>();
      addresses.forEach((address, k) => {
        const raw = checkpoints[k] ?? null;
        let state: EdgeState | undefined;
        try {
          state = raw === null ? undefined : (JSON.parse(raw) as { s: EdgeState }).s;
        } catch {
          state = undefined;
        }
        states.set(address.slice(PREFIX.length), state);
      });
      each(states);
    },
    page,
  );
}
