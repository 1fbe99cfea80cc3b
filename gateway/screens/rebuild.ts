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
 * all. A page is whole shards of ids (at least `page` ids, but for the last), so each shard is read
 * with one HMGET in all: pages of ids in their given order spread each over ~600 of 1,024 shards,
 * and 50,000 edges cost ~31,000 HMGETs, not 1,024. The ids come to `each` grouped by shard.
 */
export async function forEachStatePage(
  bus: Bus,
  ids: readonly string[],
  each: (states: Map<string, EdgeState | undefined>) => void,
  page = 1000,
): Promise<void> {
  const byShard = new Map<number, string[]>();
  for (const id of ids) {
    const shard = bus.keyspace.shardOf(`edge/${id}`);
    const list = byShard.get(shard);
    if (list === undefined) byShard.set(shard, [id]);
    else list.push(id);
  }
  let chunk: string[] = [];
  for (const [k, list] of [...byShard.values()].entries()) {
    chunk.push(...list);
    if (chunk.length < page && k < byShard.size - 1) continue;
    each(await readPage(bus, chunk));
    chunk = [];
  }
}

async function readPage(bus: Bus, ids: readonly string[]): Promise<Map<string, EdgeState | undefined>> {
  const replies = await readCheckpoints(
    bus,
    ids.map((id) => `edge/${id}`),
  );
  const states = new Map<string, EdgeState | undefined>();
  ids.forEach((id, k) => {
    const raw = replies[k] ?? null;
    let state: EdgeState | undefined;
    try {
      state = raw === null ? undefined : (JSON.parse(raw) as { s: EdgeState }).s;
    } catch {
      state = undefined;
    }
    states.set(id, state);
  });
  return states;
}
