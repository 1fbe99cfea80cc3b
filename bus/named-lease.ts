/**
 * Named leases (lease.lua): work that must run in one process at a time across the cluster —
 * the gateway's outbox sink per tag group, each web-backend delivery partition. A holder renews
 * well within the time to live; one that misses its renewal stops the work before another takes
 * it over (the time to live is the bound on the overlap).
 */
import type { Keyspace } from './keys.ts';
import type { Redis } from './redis.ts';
import { runScript } from './scripts.ts';

/** Takes the lease `name` for `holder` (or extends it when held by them); true when held. */
export async function holdLease(
  redis: Redis,
  keyspace: Keyspace,
  name: string,
  holder: string,
  ttlMs: number,
): Promise<boolean> {
  if (!(Number.isInteger(ttlMs) && ttlMs >= 100))
    throw new RangeError(`Cannot hold lease ${name}: ttlMs must be an integer ≥ 100, got ${ttlMs}`);
  return Number(await runScript(redis, 'lease', [keyspace.lease(name)], ['hold', holder, ttlMs])) === 1;
}

/** Gives the lease up if `holder` has it. */
export async function dropLease(
  redis: Redis,
  keyspace: Keyspace,
  name: string,
  holder: string,
): Promise<void> {
  await runScript(redis, 'lease', [keyspace.lease(name)], ['drop', holder, 0]);
}
