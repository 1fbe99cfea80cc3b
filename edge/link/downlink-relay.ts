/**
 * Commands to edges: the edge actor writes a `command` event to its outbox stream atomically with
 * its state, naming the transport the edge last spoke over. A relay per transport reads the
 * outbox through its own consumer group (`downlink-mqtt`, `downlink-kafka`), sends each command
 * of its transport to the edge (MQTT: the edge's downlink topic, QoS 1; Kafka: the downlink
 * topic keyed by edge id, for today's edges) with its id, deadline and fencing epoch, and
 * acknowledges the outbox entry only after the broker has it. Other outbox events are left to
 * their own consumers (the gateway's web-backend relay).
 */
import { Kafka, logLevel, type Producer } from 'kafkajs';
import mqtt from 'mqtt';
import { type Logger, silentLogger } from '../../actors/mod.ts';
import { type Bus, execOrThrow, openPipeline, toError, unlessDropped } from '../../bus/mod.ts';
import { type KafkaClientSecurity, kafkaClientSecurity } from '../kafka-auth/mod.ts';
import { type DownlinkCommand, downlinkTopic, type EdgeTransport, KAFKA_TOPICS } from '../protocol/mod.ts';
import { type MqttLinkTls, mqttLogin } from './mqtt-link.ts';

/** The outbox consumer group of the relay for `transport`. */
export const downlinkGroup = (transport: EdgeTransport) => `downlink-${transport}`;

/** Delivers commands over one transport; resolves once the broker has the command. */
export interface DownlinkSender {
  readonly transport: EdgeTransport;
  send(edgeId: string, command: DownlinkCommand): Promise<void>;
  close(): Promise<void>;
}

export async function mqttDownlink(o: {
  url: string;
  username: string;
  password?: string;
  /** TLS of an `mqtts://` broker: the CA, and the link's certificate (then no password). */
  tls?: MqttLinkTls;
}): Promise<DownlinkSender> {
  const client = await mqtt.connectAsync(o.url, {
    ...mqttLogin(o.url, o),
    protocolVersion: 5,
    reconnectPeriod: 500,
  });
  return {
    transport: 'mqtt',
    send: async (edgeId, command) => {
      await client.publishAsync(downlinkTopic(edgeId), JSON.stringify(command), { qos: 1 });
    },
    close: () => client.endAsync(),
  };
}

export async function kafkaDownlink(o: {
  brokers: readonly string[];
  clientId?: string;
  /** SASL_SSL: the hub's SCRAM-SHA-512 login and the brokers' CA (none: a plaintext broker). */
  security?: KafkaClientSecurity;
}): Promise<DownlinkSender> {
  const producer: Producer = new Kafka({
    clientId: o.clientId ?? 'devicehub-downlink',
    brokers: [...o.brokers],
    logLevel: logLevel.NOTHING,
    ...kafkaClientSecurity(o.security),
  }).producer({ allowAutoTopicCreation: true, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  return {
    transport: 'kafka',
    send: async (edgeId, command) => {
      await producer.send({
        topic: KAFKA_TOPICS.downlink,
        acks: -1,
        messages: [{ key: edgeId, value: JSON.stringify(command) }],
      });
    },
    close: () => producer.disconnect(),
  };
}

export interface DownlinkRelayOptions {
  /** The bus whose outbox streams the relay reads (non-blocking reads: the bus's own connection). */
  readonly bus: Bus;
  readonly sender: DownlinkSender;
  readonly consumer?: string;
  readonly logger?: Logger;
}

export class DownlinkRelay implements AsyncDisposable {
  readonly stats = { published: 0, skipped: 0, failed: 0 };
  readonly #o: DownlinkRelayOptions;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  readonly #group: string;
  #loop: Promise<void> | undefined;

  constructor(options: DownlinkRelayOptions) {
    this.#o = options;
    this.#group = downlinkGroup(options.sender.transport);
    this.#log = (options.logger ?? silentLogger).child({ relay: this.#group });
  }

  async start(): Promise<this> {
    const { redis, keyspace } = this.#o.bus;
    for (let g = 0; g < keyspace.tagGroups; g++) {
      await redis
        .xgroup('CREATE', keyspace.outbox(g), this.#group, '0', 'MKSTREAM')
        .catch((error: unknown) => {
          if (!String(error).includes('BUSYGROUP')) throw error;
        });
    }
    this.#loop = this.#run();
    return this;
  }

  async #run(): Promise<void> {
    const { redis, keyspace } = this.#o.bus;
    const consumer = this.#o.consumer ?? `relay-${process.pid}`;
    // Entries this consumer read but did not acknowledge (a crash) first, then new ones.
    let from = '0';
    while (!this.#stop.signal.aborted) {
      try {
        const pipeline = openPipeline(redis);
        for (let g = 0; g < keyspace.tagGroups; g++) {
          pipeline.xreadgroup(
            'GROUP',
            this.#group,
            consumer,
            'COUNT',
            200,
            'STREAMS',
            keyspace.outbox(g),
            from,
          );
        }
        const replies = await unlessDropped(redis, () => execOrThrow(pipeline));
        if (replies === undefined) {
          // A read whose reply was lost may have run (its entries pending under our name) and been
          // sent again: read the pending entries, in order, instead of these replies.
          from = '0';
          continue;
        }
        let read = 0;
        const acks = openPipeline(redis);
        for (const [g, reply] of replies.entries()) {
          for (const [, entries] of (reply ?? []) as [string, [string, string[]][]][]) {
            for (const [id, fields] of entries) {
              read++;
              await this.#publish(fields[1] ?? '');
              acks.xack(keyspace.outbox(g), this.#group, id);
            }
          }
        }
        if (read > 0) await execOrThrow(acks);
        if (from === '0' && read === 0) from = '>';
        if (read === 0) await new Promise((resolve) => setTimeout(resolve, 50));
      } catch (error) {
        this.stats.failed++;
        this.#log.warn({ err: toError(error) }, 'downlink relay failed; retrying');
        from = '0';
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  async #publish(json: string): Promise<void> {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(json) as Record<string, unknown>;
    } catch {
      this.stats.skipped++;
      return;
    }
    if (
      event.type !== 'command' ||
      typeof event.edgeId !== 'string' ||
      (event.transport ?? 'mqtt') !== this.#o.sender.transport
    ) {
      this.stats.skipped++;
      return;
    }
    const command: DownlinkCommand = {
      id: String(event.id),
      type: String(event.command),
      args: (event.args ?? {}) as Record<string, unknown>,
      deadline: Number(event.deadline),
      epoch: Number(event.epoch),
    };
    await this.#o.sender.send(event.edgeId, command);
    this.stats.published++;
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    await this.#o.sender.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
