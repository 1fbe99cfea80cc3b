/**
 * How a screen read model starts: the checkpointed state of every registered edge's actor, read
 * from Redis in pages (one round trip per `page` edges, one HMGET per shard), as `readEdgeViews` reads a page
 * of edges for the API. A state that does not parse counts as none (the tile shows the edge
 * offline until its next event).
 */
import { readCheckpoints } from '../../actors/mod.ts';
import type { Bus } from '../../bus/mod.ts';
import type { EdgeState } from '../../edge/mod.ts';

export async function readStates(
  bus: Bus,
  ids: readonly string[],
  page = 1000,
): Promise<Map<string, EdgeState | undefined>> {
  const out = new Map<string, EdgeState | undefined>();
  for (let i = 0; i < ids.length; i += page) {
    const chunk = ids.slice(i, i + page);
    const replies = await readCheckpoints(
      bus,
      chunk.map((id) => `edge/${id}`),
    );
    chunk.forEach((id, k) => {
      const raw = replies[k] ?? null;
      let state: EdgeState | undefined;
      try {
        state = raw === null ? undefined : (JSON.parse(raw) as { s: EdgeState }).s;
      } catch {
        state = undefined;
      }
      out.set(id, state);
    });
  }
  return out;
}
