/**
 * Cluster membership: each hub node records a heartbeat in one sorted set; the live members
 * are those whose heartbeat has not expired on Redis's clock (no node trusts its own clock).
 */
import { type Keyspace, type Redis, runScript } from '../bus/mod.ts';

export interface MembershipView {
  /** Redis's clock when the heartbeat was recorded (ms). */
  readonly now: number;
  /** Live node ids, sorted. */
  readonly nodes: readonly string[];
}

export async function heartbeat(
  redis: Redis,
  keyspace: Keyspace,
  nodeId: string,
  ttlMs: number,
): Promise<MembershipView> {
  const reply = (await runScript(redis, 'heartbeat', [keyspace.members], [nodeId, ttlMs, '1'])) as [
    number,
    ...string[],
  ];
  return { now: Number(reply[0]), nodes: reply.slice(1) as string[] };
}

export async function leave(redis: Redis, keyspace: Keyspace, nodeId: string): Promise<void> {
  await runScript(redis, 'heartbeat', [keyspace.members], [nodeId, 0, '0']);
}
