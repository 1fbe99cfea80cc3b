/**
 * The agent's connection to its broker, whichever transport the configuration names: MQTT (its
 * own credentials; uplink topics, commands on its downlink topic) or Kafka (compact messages on
 * `dh-uplink` keyed by its id; commands from `dh-downlink`, keeping those under its key).
 */
import { Kafka, logLevel } from 'kafkajs';
import mqtt from 'mqtt';
import type { Logger } from '../../actors/mod.ts';
import { downlinkTopic, KAFKA_TOPICS } from '../protocol.ts';
import type { QueuedMessage } from './disk-queue.ts';

export type BrokerConfig =
  | { readonly transport: 'mqtt'; readonly url: string }
  | { readonly transport: 'kafka'; readonly brokers: readonly string[] };

/** One line naming a broker (`mqtt://…`, `kafka://host:port,…`): what the agent reports. */
export function brokerName(broker: BrokerConfig): string {
  return broker.transport === 'mqtt' ? broker.url : `kafka://${broker.brokers.join(',')}`;
}

/** The broker a URL names: `mqtt://…` / `mqtts://…`, or `kafka://host:port,host:port`. */
export function parseBroker(url: string): BrokerConfig {
  if (url.startsWith('kafka://')) {
    const brokers = url.slice('kafka://'.length).split(',').filter(Boolean);
    if (brokers.length === 0) throw new RangeError(`No Kafka brokers in ${JSON.stringify(url)}`);
    return { transport: 'kafka', brokers };
  }
  return { transport: 'mqtt', url };
}

export interface Uplink {
  readonly broker: BrokerConfig;
  readonly connected: boolean;
  /** Sends a queued message: resolves once the broker has it (QoS 1, Kafka) or it was written (QoS 0). */
  send(message: QueuedMessage): Promise<void>;
  close(): Promise<void>;
}

export interface UplinkOptions {
  readonly edgeId: string;
  readonly password: string;
  /** A command arrived (its JSON). */
  readonly onCommand: (payload: Buffer) => void;
  /** (Re)connected: time to send what waits. */
  readonly onConnect: () => void;
  readonly log: Logger;
  /** Clients still trying to connect register here, so that stopping can end them. */
  readonly pending: Set<{ end(force?: boolean): unknown }>;
}

/** Opens a connection to `broker`; resolves once it is up. */
export async function openUplink(broker: BrokerConfig, o: UplinkOptions): Promise<Uplink> {
  return broker.transport === 'mqtt' ? await openMqtt(broker, o) : await openKafka(broker, o);
}

async function openMqtt(broker: BrokerConfig & { transport: 'mqtt' }, o: UplinkOptions): Promise<Uplink> {
  const client = mqtt.connect(broker.url, {
    username: o.edgeId,
    password: o.password,
    clientId: o.edgeId,
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 1000,
    queueQoSZero: false,
  });
  client.on('error', (err) => o.log.warn({ err, url: broker.url }, 'broker error'));
  client.on('connect', () => {
    void client.subscribeAsync(downlinkTopic(o.edgeId), { qos: 1 }).catch(() => {});
    o.onConnect();
  });
  client.on('message', (topic, payload) => {
    if (topic === downlinkTopic(o.edgeId)) o.onCommand(payload);
  });
  o.pending.add(client);
  await new Promise<void>((resolve) => client.once('connect', () => resolve())).finally(() =>
    o.pending.delete(client),
  );
  return {
    broker,
    get connected() {
      return client.connected;
    },
    send: async (m) => {
      await client.publishAsync(m.topic, Buffer.from(m.payload), { qos: m.qos });
    },
    close: () => client.endAsync(),
  };
}

async function openKafka(broker: BrokerConfig & { transport: 'kafka' }, o: UplinkOptions): Promise<Uplink> {
  const kafka = new Kafka({ clientId: o.edgeId, brokers: [...broker.brokers], logLevel: logLevel.NOTHING });
  // One message in flight at a time and idempotent: the hub sees the edge's order, once.
  const producer = kafka.producer({ allowAutoTopicCreation: true, idempotent: true, maxInFlightRequests: 1 });
  const consumer = kafka.consumer({ groupId: `edge-${o.edgeId}` });
  let connected = false;
  producer.on(producer.events.CONNECT, () => {
    connected = true;
    o.onConnect();
  });
  producer.on(producer.events.DISCONNECT, () => {
    connected = false;
  });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: KAFKA_TOPICS.downlink });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (message.key?.toString() === o.edgeId && message.value) o.onCommand(message.value);
    },
  });
  return {
    broker,
    get connected() {
      return connected;
    },
    send: async (m) => {
      await producer.send({
        topic: KAFKA_TOPICS.compact,
        acks: -1, // idempotent producers require all replicas' acknowledgement
        messages: [{ key: o.edgeId, value: Buffer.from(m.payload) }],
      });
    },
    close: async () => {
      await Promise.all([producer.disconnect(), consumer.disconnect()]);
    },
  };
}
