/**
 * The hub side of Kafka, for legacy edges (verbose JSON on the `elevator-*` topics) and compact
 * ones (`dh-uplink`), keyed by edge id: a consumer group, so several hub processes split the
 * partitions; offsets are committed only after a batch's entries are in Redis, so a hub process
 * dying in between makes Kafka deliver the batch again rather than lose it. A message that cannot
 * be taken (too large, no or unknown key, undecodable, whatever the reason) is counted, logged with
 * the edge id and dead-lettered on its own: `Ingest.queue` never throws, so only Redis failing
 * the batch keeps its offsets from being committed (and Kafka delivers it again).
 */
import { type Consumer, type EachBatchPayload, Kafka, logLevel } from 'kafkajs';
import { type KafkaClientSecurity, kafkaClientSecurity } from '../kafka-auth/mod.ts';
import { RestartingConsumer } from '../kafka-client/mod.ts';
import {
  decodeCompact,
  decodeLegacy,
  isLogMessage,
  KAFKA_TOPICS,
  KAFKA_UPLINK_TOPICS,
} from '../protocol/mod.ts';
import { type EdgeLink, Ingest, type IngestOptions } from './ingest.ts';

export interface KafkaLinkOptions extends IngestOptions {
  readonly brokers: readonly string[];
  /** SASL_SSL: the hub's SCRAM-SHA-512 login and the brokers' CA (none: a plaintext broker). */
  readonly security?: KafkaClientSecurity;
  readonly groupId?: string;
  readonly clientId?: string;
  /** Create the uplink and downlink topics that do not exist yet with this many partitions (default 8; 0: don't). */
  readonly ensureTopics?: number;
  /**
   * How long a silent group member keeps its partitions (default 10 s; kafkajs's own is 30 s):
   * how long a dead link process's partitions wait before another member reads them.
   */
  readonly sessionTimeoutMs?: number;
  /**
   * How long a fetch waits at an idle broker before it returns empty (default 500 ms, the Java
   * consumer's `fetch.max.wait.ms`; kafkajs's own is 5 s). `stop` waits for the fetch in flight,
   * so this also bounds how long a link takes to leave its group.
   */
  readonly fetchMaxWaitMs?: number;
  /** How often resolved offsets are committed (default 1000 ms). */
  readonly commitIntervalMs?: number;
  /** Read topics from their beginning when the group has no committed offsets (tests). */
  readonly fromBeginning?: boolean;
  /** How long `start` waits for the consumer's first fetch before it fails (default 120 s). */
  readonly startTimeoutMs?: number;
}

export class KafkaLink implements EdgeLink {
  readonly transport = 'kafka';
  readonly #o: KafkaLinkOptions;
  readonly #ingest: Ingest;
  #consumers: RestartingConsumer | undefined;

  constructor(options: KafkaLinkOptions) {
    this.#o = options;
    this.#ingest = new Ingest('kafka', `kafka:${options.groupId ?? 'devicehub-ingest'}`, options);
  }

  get stats() {
    return this.#ingest.stats;
  }

  /** Edges' log lines per outcome (accepted, dropped_rate, dropped_bytes, malformed, no_store). */
  get logLines() {
    return this.#ingest.logLines.counts;
  }

  /**
   * Consumers started again by the link after kafkajs gave one up (an error it does not retry;
   * decision 053): `devicehub_link_consumer_restarts_total`.
   */
  get consumerRestarts(): number {
    return this.#consumers?.restarts ?? 0;
  }

  async start(): Promise<this> {
    const kafka = new Kafka({
      clientId: this.#o.clientId ?? 'devicehub-link',
      brokers: [...this.#o.brokers],
      logLevel: logLevel.NOTHING,
      ...kafkaClientSecurity(this.#o.security),
    });
    await ensureTopics(kafka, this.#o.ensureTopics ?? 8);
    const consumers = new RestartingConsumer({
      name: 'Kafka link',
      log: this.#ingest.log,
      create: () =>
        kafka.consumer({
          groupId: this.#o.groupId ?? 'devicehub-ingest',
          allowAutoTopicCreation: true,
          sessionTimeout: this.#o.sessionTimeoutMs ?? 10_000,
          heartbeatInterval: 1000,
          maxWaitTimeInMs: this.#o.fetchMaxWaitMs ?? 500,
        }),
      run: (consumer) => this.#run(consumer),
    });
    this.#consumers = consumers;
    // Started means reading: the group joined and the first fetch made, so the offsets a new
    // group starts from are fixed and nothing produced from now on is skipped.
    const consumer = await consumers.start();
    // Before its first fetch, a consumer given up fails `start`, for the supervisor to see.
    await untilFetching(consumer, consumers.fetched, this.#o.startTimeoutMs ?? 120_000);
    consumers.arm();
    return this;
  }

  async #run(consumer: Consumer): Promise<void> {
    await consumer.connect();
    await retryRetriable(() =>
      consumer.subscribe({ topics: [...KAFKA_UPLINK_TOPICS], fromBeginning: this.#o.fromBeginning ?? false }),
    );
    await consumer.run({
      // Offsets are resolved only once their batch is in Redis, and kafkajs commits what is
      // resolved once a second: a crash re-reads at most that second (sequence numbers make the
      // repeats harmless) instead of a commit round trip per partition batch.
      autoCommit: true,
      autoCommitInterval: this.#o.commitIntervalMs ?? 1000,
      eachBatchAutoResolve: false,
      // Partitions are independent (an edge's messages share one): take several at once.
      partitionsConsumedConcurrently: 4,
      eachBatch: (payload) => this.#eachBatch(payload),
    });
  }

  /** One fetched partition batch: ingested, sent to Redis, then its offsets resolved. */
  async #eachBatch({ batch, resolveOffset, heartbeat }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0) return;
    const taken = this.#ingest.batch();
    const decode = batch.topic === KAFKA_TOPICS.compact ? decodeCompact : decodeLegacy;
    for (const m of batch.messages) {
      const message = {
        edgeId: m.key?.toString(),
        source: batch.topic,
        position: `${batch.topic}/${batch.partition}/${m.offset}`,
        bytes: m.value ?? Buffer.alloc(0),
      };
      // A compact log batch goes to the log sink (its edge is the key, as for every compact message).
      if (batch.topic === KAFKA_TOPICS.compact && isLogMessage(message.bytes))
        this.#ingest.queueLog(taken, message);
      else this.#ingest.queue(taken, message, decode); // never throws: enqueued or dead-lettered
    }
    this.#o.hooks?.beforeEnqueue?.();
    await this.#ingest.send(taken); // a failure here throws: kafkajs retries, nothing is committed
    resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
    await heartbeat();
  }

  async stop(): Promise<void> {
    await this.#consumers?.stop();
    await this.#ingest.flushLogCounts();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Creates the uplink and downlink topics with `partitions` partitions (none when 0). */
async function ensureTopics(kafka: Kafka, partitions: number): Promise<void> {
  if (partitions <= 0) return;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await retryRetriable(() =>
      admin.createTopics({
        waitForLeaders: true,
        topics: [...KAFKA_UPLINK_TOPICS, KAFKA_TOPICS.downlink].map((topic) => ({
          topic,
          numPartitions: partitions,
        })),
      }),
    );
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits for the consumer's first fetch. A consumer that cannot join its group (no coordinator,
 * brokers unreachable) retries forever inside kafkajs: say so and stop, so the process's
 * supervisor sees it.
 */
async function untilFetching(consumer: Consumer, fetching: Promise<void>, startMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      fetching,
      new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `Kafka link: the consumer did not start fetching within ${startMs} ms (group coordinator or brokers unavailable)`,
              ),
            ),
          startMs,
        );
      }),
    ]);
  } catch (error) {
    await consumer.disconnect().catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs a Kafka admin or subscribe step again while it fails with a retriable error (for ~10 s):
 * on a cluster the brokers learn of just-created topics and their leaders a moment apart.
 */
async function retryRetriable<T>(step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!(error as { retriable?: boolean }).retriable || attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
