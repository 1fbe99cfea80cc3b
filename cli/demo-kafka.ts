/**
 * The demo's legacy edges on Kafka, authenticated: a KRaft broker with SASL_SSL only (SCRAM-SHA-512,
 * ACLs; docs/decisions/018) and the demo PKI's certificate, the hub's Kafka link logging in as the
 * hub, and simulated legacy edges (`L-000001`…, legacy workload) producing through shared
 * producers that log in as one box, `DEMO-LEGACY-BOX` — its Kafka user made here, as the gateway
 * makes an edge's at registration (the gateway gets the same admin, so edges registered through the
 * API get theirs). Needs Kafka's jars (provisioning fetches them); without them the demo runs on.
 */
import { randomBytes } from 'node:crypto';
import type { Bus } from '../bus/mod.ts';
import { KafkaIdentities } from '../edge/kafka-auth/mod.ts';
import { KafkaLink, Simulator } from '../edge/mod.ts';
import type { KafkaAdminOptions } from '../gateway/mod.ts';
import { kafkaJarsDir, startKafka } from '../infra/mod.ts';
import { demoLogger } from './demo-logs.ts';
import type { DemoPki } from './demo-pki.ts';

/** The Kafka user the legacy edges' shared producers log in as. */
export const LEGACY_BOX = 'DEMO-LEGACY-BOX';
export const legacyEdgeId = (i: number) => `L-${String(i + 1).padStart(6, '0')}`;

export interface DemoKafka {
  /** `127.0.0.1:<port>` of the SASL_SSL listener. */
  readonly broker: string;
  /** The legacy edges' ids (registered with the gateway). */
  readonly edgeIds: readonly string[];
  /** For the gateway: edges' Kafka users follow the registry. */
  readonly admin: KafkaAdminOptions;
  sent(): number;
  describe(): string;
  stop(): Promise<void>;
}

export async function startDemoKafka(o: { pki: DemoPki; bus: Bus; edges: number }): Promise<DemoKafka> {
  kafkaJarsDir(); // throws, saying what to run, when the jars are missing
  const kafka = await startKafka({ auth: { pki: o.pki } });
  const auth = kafka.auth!;
  const log = demoLogger('link-kafka');
  const identities = new KafkaIdentities({ brokers: [kafka.broker], ca: auth.ca, ...auth.hub, logger: log });
  const boxPassword = randomBytes(16).toString('hex');
  try {
    await identities.ensureFleet();
    await identities.ensureEdge(LEGACY_BOX, boxPassword);
  } finally {
    await identities.close();
  }
  const link = await new KafkaLink({
    brokers: [kafka.broker],
    security: { ca: auth.ca, ...auth.hub },
    bus: o.bus,
    logger: log,
  }).start();
  const sim = await new Simulator({
    transport: 'kafka',
    workload: 'legacy',
    brokers: [kafka.broker],
    edges: o.edges,
    edgeId: legacyEdgeId,
    kafkaSecurity: { ca: auth.ca, username: LEGACY_BOX, password: boxPassword },
    producers: 2,
    speed: 20,
  }).start();
  demoLogger('simulator').info(
    { edges: o.edges, broker: kafka.broker, user: LEGACY_BOX },
    'legacy edges on Kafka started',
  );
  return {
    broker: kafka.broker,
    edgeIds: Array.from({ length: o.edges }, (_, i) => legacyEdgeId(i)),
    admin: { brokers: [kafka.broker], ...auth.hub, caFile: auth.caFile },
    sent: () => link.stats.enqueued,
    describe: () => `Kafka ${kafka.broker} (SASL_SSL): ${o.edges} legacy edges as ${LEGACY_BOX}`,
    async stop() {
      await sim.stop();
      await link.stop();
      await kafka.stop();
    },
  };
}
