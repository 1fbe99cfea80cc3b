/** Reading an actor's persisted checkpoint from outside the runtime (gateway, tests, tools). */
import type { Bus } from '../bus/mod.ts';

export interface PersistedState<S> {
  /** Id of the last mailbox entry the state reflects. */
  readonly lastId: string;
  readonly state: S;
}

/** The actor's last checkpoint, or undefined if it never committed one. */
export async function readActorState<S>(bus: Bus, address: string): Promise<PersistedState<S> | undefined> {
  const { redis, keyspace } = bus;
  const raw = await redis.hget(keyspace.shard(keyspace.shardOf(address)).state, address);
  if (raw === null) return undefined;
  const parsed = JSON.parse(raw) as { id: string; s: S };
  return { lastId: parsed.id, state: parsed.s };
}
