/**
 * Edges' live state for the API: each edge actor's checkpointed shadow and the hub node holding
 * its shard, read for a page of edges in one Redis round trip.
 */
import { readActorState } from '../actors/mod.ts';
import { execOrThrow, type Keyspace, openBus, openPipeline, type Redis } from '../bus/mod.ts';
import type { EdgeState } from '../edge/mod.ts';

export interface EdgeView {
  readonly online: boolean;
  readonly lastSeen: number | null;
  readonly transport: string | null;
  readonly status: Readonly<Record<string, unknown>> | null;
  readonly birth: Readonly<Record<string, unknown>> | null;
  readonly health: Readonly<Record<string, unknown>> | null;
  readonly openAlarms: Readonly<Record<string, unknown>>;
  /** The hub node that holds the edge's shard now (null when none does). */
  readonly node: string | null;
}

export async function readEdgeViews(
  redis: Redis,
  keyspace: Keyspace,
  ids: readonly string[],
): Promise<Map<string, EdgeView>> {
  const pipeline = openPipeline(redis);
  for (const id of ids) {
    const shard = keyspace.shard(keyspace.shardOf(`edge/${id}`));
    pipeline.hget(shard.state, `edge/${id}`);
    pipeline.hmget(shard.lease, 'node', 'until');
  }
  const replies = ids.length > 0 ? await execOrThrow(pipeline) : [];
  const now = Date.now();
  const out = new Map<string, EdgeView>();
  ids.forEach((id, i) => {
    const raw = replies[2 * i] as string | null;
    const [node, until] = replies[2 * i + 1] as [string | null, string | null];
    const s = raw === null ? undefined : (JSON.parse(raw) as { s: EdgeState }).s;
    out.set(id, {
      online: s?.online ?? false,
      lastSeen: s?.lastSeen ?? null,
      transport: s?.transport ?? null,
      status: s?.shadow.status ?? null,
      birth: s?.shadow.birth ?? null,
      health: s?.shadow.heartbeat ?? null,
      openAlarms: s?.openAlarms ?? {},
      node: node && Number(until) > now ? node : null,
    });
  });
  return out;
}

/** An edge actor's checkpointed state, if it has one. */
export async function readEdgeState(
  redis: Redis,
  keyspace: Keyspace,
  id: string,
): Promise<EdgeState | undefined> {
  return (await readActorState<EdgeState>(openBus({ redis, keyspace }), `edge/${id}`))?.state;
}

/** The command records an edge actor keeps. */
export async function readCommands(redis: Redis, keyspace: Keyspace, id: string) {
  return (await readEdgeState(redis, keyspace, id))?.commands ?? {};
}

/** The tunnels an edge actor keeps (live state, fresher than the database's copy). */
export async function readTunnels(redis: Redis, keyspace: Keyspace, id: string) {
  return (await readEdgeState(redis, keyspace, id))?.tunnels ?? {};
}
