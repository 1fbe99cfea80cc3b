/**
 * Cluster membership (heartbeat.lua): each hub node records a heartbeat in one sorted set; the
 * live members are those whose heartbeat has not expired on Redis's clock (no node trusts its
 * own clock).
 */
import type { Bus } from './bus.ts';
import { heartbeatReply, type MembershipView } from './replies.ts';
import { runScript } from './scripts.ts';

/** Records `node`'s heartbeat, alive for `ttlMs` on Redis's clock; the live members as seen then. */
export async function heartbeat(bus: Bus, node: string, ttlMs: number): Promise<MembershipView> {
  return heartbeatReply(await runScript(bus.redis, 'heartbeat', [bus.keyspace.members], [node, ttlMs, '1']));
}

/** Takes `node` out of the members at once (a graceful stop). */
export async function leave(bus: Bus, node: string): Promise<void> {
  heartbeatReply(await runScript(bus.redis, 'heartbeat', [bus.keyspace.members], [node, 0, '0']));
}

/** The live members as seen now, without heartbeating. */
export async function liveMembers(bus: Bus): Promise<string[]> {
  const [sec, usec] = (await bus.redis.time()) as unknown as [string, string];
  const now = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
  return (await bus.redis.zrangebyscore(bus.keyspace.members, `(${now}`, '+inf')).sort();
}
