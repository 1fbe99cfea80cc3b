/**
 * One authenticated KRaft broker for a test file (edge/link/kafka-auth*.test.ts): SASL_SSL with
 * SCRAM-SHA-512 from the fleet PKI, the fleet-wide ACLs, the hub's topics, the legacy PLAINTEXT
 * listener on (the operator's migration step), and kafkajs clients logged in as whoever a test
 * names.
 */
import { after, before } from 'node:test';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { type KafkaAuth, type KafkaServer, startKafka } from '../../../infra/mod.ts';
import { startTestPki } from '../../../infra/tls.ts';
import { KafkaIdentities, kafkaClientSecurity } from '../../kafka-auth/mod.ts';
import { KAFKA_TOPICS } from '../../protocol/mod.ts';

export const noRetry = { retries: 0 };
/** The broker's `connections.max.reauth.ms`. */
export const REAUTH_MS = 15_000;

export interface AuthenticatedKafka {
  readonly kafka: KafkaServer;
  readonly auth: KafkaAuth;
  /** The hub's credential admin, logged in as its super user. */
  readonly identities: KafkaIdentities;
  /** A kafkajs client of the SASL_SSL listener as `login` (none: plaintext to the SASL_SSL port). */
  client(login?: { username: string; password: string }, extra?: Partial<KafkaConfig>): Kafka;
}

/** Starts the broker before the file's tests and stops it after. */
export function useAuthenticatedKafka(): AuthenticatedKafka {
  let kafka: KafkaServer | undefined;
  let identities: KafkaIdentities | undefined;
  const h: AuthenticatedKafka = {
    get kafka() {
      return kafka!;
    },
    get auth() {
      return kafka!.auth!;
    },
    get identities() {
      return identities!;
    },
    client: (login, extra = {}) =>
      new Kafka({
        brokers: [kafka!.broker],
        logLevel: logLevel.NOTHING,
        connectionTimeout: 5000,
        ...(login === undefined ? {} : kafkaClientSecurity({ ca: h.auth.ca, ...login })),
        ...extra,
      }),
  };
  before(async () => {
    // Sessions re-authenticate every 15 s (kafkajs does so 10 s before the end): every test's
    // clients live through re-authentications, and a removed edge's open session ends within it.
    kafka = await startKafka({
      auth: { pki: await startTestPki(), legacyPlaintext: true, reauthMs: REAUTH_MS },
    });
    identities = new KafkaIdentities({ brokers: [kafka.broker], ca: h.auth.ca, ...h.auth.hub });
    await identities.ensureFleet();
    // The hub creates the topics (edges may not), as the link does at its start.
    const admin = h.client(h.auth.hub).admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [...Object.values(KAFKA_TOPICS)].map((topic) => ({ topic, numPartitions: 2 })),
    });
    await admin.disconnect();
  });
  after(async () => {
    await identities?.close();
    await kafka?.stop();
  });
  return h;
}

/** Sends one record; resolves to the error's type (or name) when refused, 'ok' when taken. */
export async function produce(c: Kafka, topic: string, key = 'E-1'): Promise<string> {
  const producer = c.producer({ allowAutoTopicCreation: true, retry: noRetry });
  try {
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key, value: 'x' }] });
    return 'ok';
  } catch (error) {
    const e = error as { type?: string; name?: string; message?: string };
    return e.type ?? e.name ?? String(e.message);
  } finally {
    await producer.disconnect().catch(() => {});
  }
}

export { type Line, recordingLogger } from '../../../actors/testdata/recording-logger.ts';
