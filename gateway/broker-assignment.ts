/**
 * Which broker an edge uses: weighted rendezvous hashing over the broker pool. Every gateway
 * computes the same answer; adding a broker moves only the edges it now wins (its weight's
 * share), removing one moves only its own edges.
 */
import { pickByRendezvous } from '../edge/protocol/mod.ts';

export interface PoolBroker {
  readonly id: string;
  readonly transport: 'mqtt' | 'kafka';
  readonly address: string;
  readonly weight: number;
}

/** The broker of `edgeId` (edge/protocol's weighted rendezvous), or undefined with an empty pool (or only zero weights). */
export function assignBroker(edgeId: string, pool: readonly PoolBroker[]): PoolBroker | undefined {
  return pickByRendezvous(edgeId, pool);
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
