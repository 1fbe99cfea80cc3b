/**
 * Edges' live state for the API: each edge actor's checkpointed shadow and the hub node holding
 * its shard, read for a page of edges in one Redis round trip.
 */
import { readActorState } from '../actors/mod.ts';
import { type Bus, execOrThrow } from '../bus/mod.ts';
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

/**
 * The views of edges `ids`; `known`: their actor states, already read (a fleet search has them),
 * so only the shard leases are read.
 */
export async function readEdgeViews(
  bus: Bus,
  ids: readonly string[],
  known?: ReadonlyMap<string, EdgeState | undefined>,
): Promise<Map<string, EdgeView>> {
  const { keyspace } = bus;
  const pipeline = bus.pipeline();
  for (const id of ids) {
    const shard = keyspace.shard(keyspace.shardOf(`edge/${id}`));
    if (known === undefined) pipeline.hget(shard.state, `edge/${id}`);
    pipeline.hmget(shard.lease, 'node', 'until');
  }
  const replies = ids.length > 0 ? await execOrThrow(pipeline) : [];
  const per = known === undefined ? 2 : 1;
  const now = Date.now();
  const out = new Map<string, EdgeView>();
  ids.forEach((id, i) => {
    const raw = known === undefined ? (replies[per * i] as string | null) : null;
    const [node, until] = replies[per * i + per - 1] as [string | null, string | null];
    const s =
      known !== undefined
        ? known.get(id)
        : raw === null
          ? undefined
          : (JSON.parse(raw) as { s: EdgeState }).s;
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
export async function readEdgeState(bus: Bus, id: string): Promise<EdgeState | undefined> {
  return (await readActorState<EdgeState>(bus, `edge/${id}`))?.state;
}

/** The command records an edge actor keeps. */
export async function readCommands(bus: Bus, id: string) {
  return (await readEdgeState(bus, id))?.commands ?? {};
}

/** The tunnels an edge actor keeps (live state, fresher than the database's copy). */
export async function readTunnels(bus: Bus, id: string) {
  return (await readEdgeState(bus, id))?.tunnels ?? {};
}
