/**
 * Which broker an edge uses: weighted rendezvous hashing over the broker pool. Every gateway
 * computes the same answer; adding a broker moves only the edges it now wins (its weight's
 * share), removing one moves only its own edges.
 */
import { fnv1a32, mix32 } from '../bus/mod.ts';

export interface PoolBroker {
  readonly id: string;
  readonly transport: 'mqtt' | 'kafka';
  readonly address: string;
  readonly weight: number;
}

/** The broker of `edgeId`, or undefined with an empty pool (or only zero weights). */
export function assignBroker(edgeId: string, pool: readonly PoolBroker[]): PoolBroker | undefined {
  const edge = fnv1a32(edgeId);
  let best = Number.NEGATIVE_INFINITY;
  let chosen: PoolBroker | undefined;
  for (const broker of pool) {
    if (broker.weight <= 0) continue;
    // Weighted rendezvous: -w / ln(u) for a uniform u in (0, 1) per (edge, broker).
    const u = (mix32(fnv1a32(broker.id), edge) + 0.5) / 2 ** 32;
    const score = -broker.weight / Math.log(u);
    if (score > best || (score === best && chosen !== undefined && broker.id < chosen.id)) {
      best = score;
      chosen = broker;
    }
  }
  return chosen;
}

/**
 * The configuration's `broker` for a pool broker. A Kafka address is `host:port,…` (plaintext) or
 * `kafkas://host:port,…` (SASL_SSL: the agent logs in as itself over TLS), as the agent's
 * DH_AGENT_BROKER_URL spells it; `kafka://host:port,…` is plaintext too.
 */
export function brokerConfig(broker: PoolBroker) {
  if (broker.transport === 'mqtt') return { transport: 'mqtt' as const, url: broker.address };
  const [, scheme, list = ''] = /^(?:(kafkas?):\/\/)?(.*)$/.exec(broker.address) ?? [];
  const brokers = list.split(',').filter(Boolean);
  return scheme === 'kafkas'
    ? { transport: 'kafka' as const, brokers, security: 'sasl_ssl' as const }
    : { transport: 'kafka' as const, brokers };
}
