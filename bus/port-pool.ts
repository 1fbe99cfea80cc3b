/**
 * Remote ports for tunnels from one configured range, shared by every gateway and hub node
 * through Redis (ports-allocate.lua / ports-release.lua): all-or-none allocation, never the same
 * port twice, ports back to the pool when their tunnel closes. Claims ride along: names an owner
 * holds exclusively with its ports (one open tunnel per edge and service).
 */
import { ClaimTakenError, PortsExhaustedError } from './errors.ts';
import type { Keyspace } from './keys.ts';
import type { Redis } from './redis.ts';
import { runScript } from './scripts.ts';

export interface PortRange {
  readonly low: number;
  readonly high: number;
}

/**
 * Takes `count` ports of `range` and the `claims` for `owner`, all or none. Throws
 * PortsExhaustedError when too few ports are free, ClaimTakenError when another owner holds a
 * claim (asking again as the same owner is harmless: its claims are its own).
 */
export async function allocatePorts(
  redis: Redis,
  keyspace: Keyspace,
  o: { range: PortRange; count: number; owner: string; claims?: readonly string[] },
): Promise<number[]> {
  const { range, count, owner, claims = [] } = o;
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
  if (!(Number.isInteger(count) && count >= 0 && count <= 16))
    throw new RangeError(`Cannot allocate ports: count must be 0..16, got ${count}`);
  const [status, ...rest] = (await runScript(
    redis,
    'ports-allocate',
    [keyspace.ports, keyspace.portClaims],
    [range.low, range.high, count, owner, ...claims],
  )) as [number, ...(number | string)[]];
  if (Number(status) === 0) throw new ClaimTakenError(`Already held by ${rest[0]}`, String(rest[0]));
  if (Number(status) < 0)
    throw new PortsExhaustedError(
      `No ${count} free port(s) left in ${range.low}..${range.high}; close a tunnel or widen the range`,
    );
  return rest.map(Number);
}

/** Gives back the ports and claims `owner` holds among those named; returns how many ports were released. */
export async function releasePorts(
  redis: Redis,
  keyspace: Keyspace,
  owner: string,
  ports: readonly number[],
  claims: readonly string[] = [],
): Promise<number> {
  if (ports.length === 0 && claims.length === 0) return 0;
  return Number(
    await runScript(
      redis,
      'ports-release',
      [keyspace.ports, keyspace.portClaims],
      [owner, ports.length, ...ports, ...claims],
    ),
  );
}

/** Who holds which port now. */
export async function allocatedPorts(redis: Redis, keyspace: Keyspace): Promise<Map<number, string>> {
  const all = await redis.hgetall(keyspace.ports);
  return new Map(Object.entries(all).map(([port, owner]) => [Number(port), owner]));
}
