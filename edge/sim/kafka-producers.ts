/**
 * Simulated edges over Kafka: the edges share a few producers, as a gateway box in front of many
 * edges would; each message is keyed by its edge id (compact: `dh-uplink`; legacy: today's
 * `elevator-*` topics). Messages are gathered per producer and sent once per tick, in one batch.
 */
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { type KafkaClientSecurity, kafkaClientSecurity } from '../kafka-auth/mod.ts';
import { encodeCompact, KAFKA_TOPICS } from '../protocol/mod.ts';
import type { Acknowledge, Outgoing, SimEdge } from './sim-edge.ts';

type Batch = Map<string, { key: string; value: Buffer | string; edge: number }[]>;

export class KafkaProducers {
  readonly #producers: Producer[];
  /** Kafka messages of this tick, per producer. */
  #batches: Batch[];

  constructor(producers: Producer[]) {
    this.#producers = producers;
    this.#batches = producers.map(() => new Map());
  }

  /**
   * `count` producers, connected to `brokers`; with `security`, over SASL_SSL as one principal
   * (the box in front of the edges: a credential per edge group, see docs/decisions/018).
   */
  static async start(
    brokers: readonly string[],
    count: number,
    options: { security?: KafkaClientSecurity } = {},
  ): Promise<KafkaProducers> {
    const kafka = new Kafka({
      clientId: 'devicehub-simulator',
      brokers: [...brokers],
      logLevel: logLevel.NOTHING,
      ...kafkaClientSecurity(options.security),
    });
    const producers: Producer[] = [];
    for (let p = 0; p < count; p++) {
      const producer = kafka.producer({ allowAutoTopicCreation: true });
      await producer.connect();
      producers.push(producer);
    }
    return new KafkaProducers(producers);
  }

  /** Adds `out` to this tick's batch of the edge's producer. */
  add(edge: SimEdge, out: Outgoing): void {
    const [topic, value] =
      'compact' in out
        ? [KAFKA_TOPICS.compact, Buffer.from(encodeCompact(out.compact))]
        : [out.legacy.topic, out.legacy.json];
    const batch = this.#batches[edge.index % this.#producers.length]!;
    let messages = batch.get(topic);
    if (messages === undefined) {
      messages = [];
      batch.set(topic, messages);
    }
    messages.push({ key: edge.id, value, edge: edge.index });
  }

  /** Sends this tick's messages, one batch per producer; `acknowledged` hears how each went. */
  flush(acknowledged: Acknowledge): void {
    this.#batches.forEach((batch, p) => {
      if (batch.size === 0) return;
      this.#batches[p] = new Map();
      const topicMessages = [...batch].map(([topic, messages]) => ({
        topic,
        messages: messages.map(({ key, value }) => ({ key, value })),
      }));
      this.#producers[p]!.sendBatch({ topicMessages, acks: -1 }).then(
        () => {
          for (const messages of batch.values()) for (const m of messages) acknowledged(m.edge, 1);
        },
        (error: unknown) => {
          for (const messages of batch.values()) acknowledged(-1, messages.length, error);
        },
      );
    });
  }

  async disconnect(): Promise<void> {
    await Promise.all(this.#producers.map((p) => p.disconnect().catch(() => {})));
  }
}
