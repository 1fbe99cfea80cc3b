/**
 * Remote ports for tunnels from one configured range, shared by every gateway and hub node
 * through Redis (ports-allocate.lua / ports-release.lua): all-or-none allocation, never the same
 * port twice, ports back to the pool when their tunnel closes.
 */
import type { Redis } from 'ioredis';
import { PortsExhaustedError } from './errors.ts';
import type { Keyspace } from './keys.ts';
import { runScript } from './scripts.ts';

export interface PortRange {
  readonly low: number;
  readonly high: number;
}

/** Takes `count` ports of `range` for `owner`; throws PortsExhaustedError when too few are free. */
export async function allocatePorts(
  redis: Redis,
  keyspace: Keyspace,
  o: { range: PortRange; count: number; owner: string },
): Promise<number[]> {
  const { range, count, owner } = o;
  if (
    !(
      Number.isInteger(range.low) &&
      Number.isInteger(range.high) &&
      range.low >= 1 &&
      range.high <= 65535 &&
      range.low <= range.high
    )
  )
    throw new RangeError(
      `Cannot allocate ports: range must be 1..65535, low ≤ high, got ${range.low}..${range.high}`,
    );
  if (!(Number.isInteger(count) && count >= 1 && count <= 16))
    throw new RangeError(`Cannot allocate ports: count must be 1..16, got ${count}`);
  const taken = (await runScript(
    redis,
    'ports-allocate',
    [keyspace.ports],
    [range.low, range.high, count, owner],
  )) as number[];
  if (taken.length < count)
    throw new PortsExhaustedError(
      `No ${count} free port(s) left in ${range.low}..${range.high}; close a tunnel or widen the range`,
    );
  return taken.map(Number);
}

/** Gives back the ports `owner` holds among `ports`; returns how many were released. */
export async function releasePorts(
  redis: Redis,
  keyspace: Keyspace,
  owner: string,
  ports: readonly number[],
): Promise<number> {
  if (ports.length === 0) return 0;
  return Number(await runScript(redis, 'ports-release', [keyspace.ports], [owner, ...ports]));
}

/** Who holds which port now. */
export async function allocatedPorts(redis: Redis, keyspace: Keyspace): Promise<Map<number, string>> {
  const all = await redis.hgetall(keyspace.ports);
  return new Map(Object.entries(all).map(([port, owner]) => [Number(port), owner]));
}
