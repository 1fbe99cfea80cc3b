/**
 * Remote ports for tunnels from one configured range, shared by every gateway and hub node
 * through Redis (ports-allocate.lua / ports-release.lua): all-or-none allocation, never the same
 * port twice, ports back to the pool when their tunnel closes. Claims ride along: names an owner
 * holds exclusively with its ports (one open tunnel per edge and service, keys.ts `tunnelClaim`).
 */
import type { Bus } from './bus.ts';
import { portsAllocateReply, portsReleaseReply } from './replies.ts';
import { runScript } from './scripts.ts';

export interface PortRange {
  readonly low: number;
  readonly high: number;
}

export interface AllocatePorts {
  readonly range: PortRange;
  readonly count: number;
  readonly owner: string;
  readonly claims?: readonly string[];
}

export interface ReleasePorts {
  readonly owner: string;
  readonly ports: readonly number[];
  readonly claims?: readonly string[];
}

/**
 * Takes `count` ports of `range` and the `claims` for `owner`, all or none. Throws
 * PortsExhaustedError when too few ports are free, ClaimTakenError when another owner holds a
 * claim (asking again as the same owner is harmless: its claims are its own).
 */
export async function allocatePorts(bus: Bus, input: AllocatePorts): Promise<number[]> {
  const { range, count, owner, claims = [] } = input;
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
  const reply = await runScript(
    bus.redis,
    'ports-allocate',
    [bus.keyspace.ports, bus.keyspace.portClaims],
    [range.low, range.high, count, owner, ...claims],
  );
  return portsAllocateReply(reply, { count, low: range.low, high: range.high });
}

/** Gives back the ports and claims `owner` holds among those named; returns how many ports were released. */
export async function releasePorts(bus: Bus, input: ReleasePorts): Promise<number> {
  const { owner, ports, claims = [] } = input;
  if (ports.length === 0 && claims.length === 0) return 0;
  const reply = await runScript(
    bus.redis,
    'ports-release',
    [bus.keyspace.ports, bus.keyspace.portClaims],
    [owner, ports.length, ...ports, ...claims],
  );
  return portsReleaseReply(reply);
}

/** Who holds which port now. */
export async function allocatedPorts(bus: Bus): Promise<Map<number, string>> {
  const all = await bus.redis.hgetall(bus.keyspace.ports);
  return new Map(Object.entries(all).map(([port, owner]) => [Number(port), owner]));
}
