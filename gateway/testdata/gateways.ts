/**
 * For tests: several gateway instances over one database and keyspace, as a cluster runs them —
 * each on its own bus (a Redis connection of its own), with short leases so a takeover takes a second.
 */
import type { Bus } from '../../bus/mod.ts';
import { createGateway, type Gateway, type GatewayOptions } from '../gateway.ts';

export async function startGateways(
  count: number,
  connect: () => Bus,
  options: Omit<GatewayOptions, 'bus' | 'name' | 'leaseTtlMs'>,
): Promise<Gateway[]> {
  const gateways: Gateway[] = [];
  for (let i = 0; i < count; i++)
    gateways.push(await createGateway({ ...options, bus: connect(), name: `gw-${i}`, leaseTtlMs: 1000 }));
  return gateways;
}
