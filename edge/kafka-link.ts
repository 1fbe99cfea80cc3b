/**
 * The hub side of Kafka, for legacy edges (verbose JSON on the `elevator-*` topics) and compact
 * ones (`dh-uplink`), keyed by edge id: a consumer group, so several hub processes split the
 * partitions; offsets are committed only after a batch's entries are in Redis, so a hub process
 * dying in between makes Kafka deliver the batch again rather than lose it. Undecodable messages
 * are counted, logged with the edge id and dead-lettered.
 */
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { type Logger, silentLogger } from '../actors/mod.ts';
import { execOrThrow, type Keyspace, queueMessages, type Redis } from '../bus/mod.ts';
import { decodeCompact } from './compact.ts';
import { type LinkStats, queueDeviceDeadLetter } from './dead-letter.ts';
import { DecodeError } from './errors.ts';
import { decodeLegacy } from './legacy.ts';
import type { HubMessage } from './normalized.ts';
import { isValidEdgeId, KAFKA_TOPICS } from './protocol.ts';

export interface KafkaLinkOptions {
  readonly brokers: readonly string[];
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly groupId?: string;
  readonly clientId?: string;
  /** Create the uplink topics that do not exist yet with this many partitions (default 8; 0: don't). */
  readonly ensureTopics?: number;
  /**
   * How long a silent group member keeps its partitions (default 10 s; kafkajs's own is 30 s):
   * how long a dead link process's partitions wait before another member reads them.
   */
  readonly sessionTimeoutMs?: number;
  /** For tests of crash recovery only: exit the process after receiving a batch, before enqueueing. */
  readonly crashBeforeEnqueue?: boolean;
  /** Read topics from their beginning when the group has no committed offsets (tests). */
  readonly fromBeginning?: boolean;
  readonly logger?: Logger;
}

const UPLINK_TOPICS = [
  KAFKA_TOPICS.status,
  KAFKA_TOPICS.detection,
  KAFKA_TOPICS.heartbeat,
  KAFKA_TOPICS.fault,
  KAFKA_TOPICS.compact,
];

export class KafkaLink implements AsyncDisposable {
  readonly stats: LinkStats = { received: 0, enqueued: 0, deadLettered: {} };
  readonly #o: KafkaLinkOptions;
  readonly #log: Logger;
  #consumer: Consumer | undefined;

  constructor(options: KafkaLinkOptions) {
    this.#o = options;
    this.#log = (options.logger ?? silentLogger).child({ link: 'kafka' });
  }

  async start(): Promise<this> {
    const kafka = new Kafka({
      clientId: this.#o.clientId ?? 'devicehub-link',
      brokers: [...this.#o.brokers],
      logLevel: logLevel.NOTHING,
    });
    const partitions = this.#o.ensureTopics ?? 8;
    if (partitions > 0) {
      const admin = kafka.admin();
      await admin.connect();
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: UPLINK_TOPICS.map((topic) => ({ topic, numPartitions: partitions })),
        });
      } finally {
        await admin.disconnect();
      }
    }
    const consumer = kafka.consumer({
      groupId: this.#o.groupId ?? 'devicehub-ingest',
      allowAutoTopicCreation: true,
      sessionTimeout: this.#o.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: 1000,
    });
    this.#consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: UPLINK_TOPICS, fromBeginning: this.#o.fromBeginning ?? false });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        if (batch.messages.length === 0) return;
        const pipeline = this.#o.redis.pipeline();
        let enqueued = 0;
        for (const m of batch.messages) {
          this.stats.received++;
          const edgeId = m.key?.toString() ?? '';
          try {
            if (!isValidEdgeId(edgeId))
              throw new DecodeError(
                'INVALID_FIELD',
                `message key is not an edge id: ${JSON.stringify(edgeId)}`,
              );
            const value = m.value ?? Buffer.alloc(0);
            const messages: HubMessage[] =
              batch.topic === KAFKA_TOPICS.compact ? decodeCompact(value) : decodeLegacy(value, edgeId);
            const address = `edge/${edgeId}`;
            queueMessages(
              pipeline,
              this.#o.keyspace,
              messages.map((h) => ({ address, method: h.method, payload: h.payload })),
            );
            enqueued += messages.length;
          } catch (error) {
            if (!(error instanceof DecodeError)) throw error;
            queueDeviceDeadLetter(
              pipeline,
              this.#o.keyspace,
              { stats: this.stats, log: this.#log, link: 'kafka' },
              {
                edgeId: isValidEdgeId(edgeId) ? edgeId : undefined,
                source: batch.topic,
                entryId: `${batch.topic}/${batch.partition}/${m.offset}`,
                payload: m.value ?? Buffer.alloc(0),
                error,
              },
            );
          }
        }
        if (this.#o.crashBeforeEnqueue) process.exit(70);
        await execOrThrow(pipeline); // a failure here throws: kafkajs retries, nothing is committed
        this.stats.enqueued += enqueued;
        const last = batch.messages[batch.messages.length - 1]!.offset;
        resolveOffset(last);
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
        ]);
        await heartbeat();
      },
    });
    return this;
  }

  async stop(): Promise<void> {
    await this.#consumer?.disconnect();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
