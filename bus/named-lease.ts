/**
 * Named leases (lease.lua): work that must run in one process at a time across the cluster —
 * the gateway's outbox sink per tag group, each web-backend delivery partition (keys.ts
 * `sinkLease`, `webhookLease`). A holder renews well within the time to live; one that misses
 * its renewal stops the work before another takes it over (the time to live is the bound on the
 * overlap).
 */
import type { Bus } from './bus.ts';
import { leaseReply } from './replies.ts';
import { runScript } from './scripts.ts';

export interface HoldLease {
  readonly name: string;
  readonly holder: string;
  readonly ttlMs: number;
}

/** Takes the lease `name` for `holder` (or extends it when held by them); true when held. */
export async function holdLease(bus: Bus, input: HoldLease): Promise<boolean> {
  const { name, holder, ttlMs } = input;
  if (!(Number.isInteger(ttlMs) && ttlMs >= 100))
    throw new RangeError(`Cannot hold lease ${name}: ttlMs must be an integer ≥ 100, got ${ttlMs}`);
  return leaseReply(await runScript(bus.redis, 'lease', [bus.keyspace.lease(name)], ['hold', holder, ttlMs]));
}

/** Gives the lease up if `holder` has it; true when they did. */
export async function dropLease(bus: Bus, name: string, holder: string): Promise<boolean> {
  return leaseReply(await runScript(bus.redis, 'lease', [bus.keyspace.lease(name)], ['drop', holder, 0]));
}
