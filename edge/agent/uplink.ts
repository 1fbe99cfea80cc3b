/**
 * The agent's connection to its broker, whichever transport the configuration names: MQTT (its
 * own credentials; uplink topics, commands on its downlink topic) or Kafka (compact messages on
 * `dh-uplink` keyed by its id; commands from `dh-downlink`, keeping those under its key).
 */
import { Kafka, logLevel } from 'kafkajs';
import mqtt from 'mqtt';
import type { Logger } from '../../actors/mod.ts';
import { RestartingConsumer } from '../kafka-client/mod.ts';
import { downlinkTopic, KAFKA_TOPICS } from '../protocol/mod.ts';
import type { QueuedMessage } from './disk-queue.ts';
import { AgentError } from './errors.ts';
import { type Backoff, reconnectWithBackoff } from './reconnect.ts';
import { trackUnheard } from './unheard.ts';

export type BrokerConfig =
  | { readonly transport: 'mqtt'; readonly url: string }
  | {
      readonly transport: 'kafka';
      readonly brokers: readonly string[];
      /**
       * `sasl_ssl`: TLS (checked against `brokerTls.ca`, else the system's CAs) and a SCRAM-SHA-512
       * login as the edge (its id and password); absent: plaintext, for brokers still without authentication.
       */
      readonly security?: 'sasl_ssl';
    };

/** One line naming a broker (`mqtt://…`, `kafka://host:port,…`, `kafkas://…`): what the agent reports. */
export function brokerName(broker: BrokerConfig): string {
  if (broker.transport === 'mqtt') return broker.url;
  return `${broker.security === 'sasl_ssl' ? 'kafkas' : 'kafka'}://${broker.brokers.join(',')}`;
}

/**
 * The broker a URL names: `mqtt://…` / `mqtts://…`, `kafka://host:port,host:port` (plaintext) or
 * `kafkas://host:port,…` (SASL_SSL, SCRAM-SHA-512 as the edge).
 */
export function parseBroker(url: string): BrokerConfig {
  const kafka = /^(kafkas?):\/\/(.*)$/.exec(url);
  if (kafka !== null) {
    const brokers = kafka[2]!.split(',').filter(Boolean);
    if (brokers.length === 0) throw new RangeError(`No Kafka brokers in ${JSON.stringify(url)}`);
    return kafka[1] === 'kafkas'
      ? { transport: 'kafka', brokers, security: 'sasl_ssl' }
      : { transport: 'kafka', brokers };
  }
  return { transport: 'mqtt', url };
}

/** Whether commands can reach the agent: its downlink subscription on this broker. */
export interface DownlinkState {
  /** The broker granted the downlink subscription on the current connection. */
  readonly subscribed: boolean;
  /** Subscription attempts refused or failed since this uplink opened (retried with capped backoff). */
  readonly failures: number;
}

export interface Uplink {
  readonly broker: BrokerConfig;
  readonly connected: boolean;
  readonly downlink: DownlinkState;
  /**
   * Sends a queued message: resolves once the broker has it (QoS 1, Kafka) or it was written (QoS 0).
   * A QoS 1 message the broker had nobody to give to fails with `NO_SUBSCRIBERS` (kept by the caller).
   */
  send(message: QueuedMessage): Promise<void>;
  close(): Promise<void>;
}

/**
 * TLS towards an `mqtts://` broker (PEM): the CA its certificate must chain to (the fleet CA; none:
 * the system's CAs) and the edge's client certificate and key for the mTLS listener, where the
 * certificate's CN, not the user name, is who the edge is.
 */
export interface MqttTls {
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

export interface UplinkOptions {
  readonly edgeId: string;
  readonly password: string;
  /** TLS of an `mqtts://` broker (ignored for `mqtt://`); its `ca` also checks a `kafkas://` broker. */
  readonly brokerTls?: MqttTls;
  /** A command arrived (its JSON). */
  readonly onCommand: (payload: Buffer) => void;
  /** (Re)connected: time to send what waits. */
  readonly onConnect: () => void;
  readonly log: Logger;
  /** Clients still trying to connect register here, so that stopping can end them. */
  readonly pending: Set<{ end(force?: boolean): unknown }>;
  /** Backoff between downlink subscription attempts: doubling from `firstMs` (1 s) up to `maxMs` (60 s). */
  readonly downlinkRetry?: { readonly firstMs?: number; readonly maxMs?: number };
  /** MQTT: the delays between reconnect attempts (default `RECONNECT_BACKOFF`: 1 s doubling to 15 s, jittered). */
  readonly reconnect?: Backoff;
}

/** Opens a connection to `broker`; resolves once it is up. */
export async function openUplink(broker: BrokerConfig, o: UplinkOptions): Promise<Uplink> {
  return broker.transport === 'mqtt' ? await openMqtt(broker, o) : await openKafka(broker, o);
}

/** Hosts an edge may reach over plain `mqtt://` or `ws://` (its credentials stay on the box). */
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

/**
 * The agent speaks MQTT in clear only to loopback (a local broker, tests): anything else must be
 * `mqtts://` or `wss://`, whatever the configuration says, as its HTTP does (`INSECURE_URL`).
 */
export function checkMqttUrl(url: string): void {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new AgentError('INSECURE_URL', `broker: not a URL: ${JSON.stringify(url)}`);
  }
  if (target.protocol === 'mqtts:' || target.protocol === 'wss:') return;
  if ((target.protocol === 'mqtt:' || target.protocol === 'ws:') && LOOPBACK.test(target.hostname)) return;
  throw new AgentError(
    'INSECURE_URL',
    `broker: ${target.protocol}//${target.host} would carry the edge's credentials in clear; use mqtts:// (or mqtt:// to loopback only)`,
  );
}

async function openMqtt(broker: BrokerConfig & { transport: 'mqtt' }, o: UplinkOptions): Promise<Uplink> {
  checkMqttUrl(broker.url);
  const client = mqtt.connect(broker.url, {
    username: o.edgeId,
    password: o.password,
    clientId: o.edgeId,
    protocolVersion: 5,
    clean: true,
    // Our own reconnects (reconnect.ts): jittered and growing, not every edge each second in lockstep.
    reconnectPeriod: 0,
    queueQoSZero: false,
    ...mqttTlsOptions(broker.url, o.brokerTls),
  });
  reconnectWithBackoff(client, o.reconnect);
  client.on('error', (err) => o.log.warn({ err, url: broker.url }, 'broker error'));
  // PUBACK 0x10: the broker dropped the message (no hub link subscribed yet after its restart).
  const unheard = trackUnheard(client);
  const downlink = subscribeDownlink(client, o);
  client.on('connect', () => {
    downlink.start();
    o.onConnect();
  });
  client.on('close', () => downlink.lost());
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
    get downlink() {
      return downlink.state;
    },
    send: async (m) => {
      const sent = await client.publishAsync(m.topic, Buffer.from(m.payload), { qos: m.qos });
      if (unheard(sent?.messageId))
        throw new AgentError(
          'NO_SUBSCRIBERS',
          `broker: no hub link subscribed to ${m.topic} took it (PUBACK 0x10); kept, to be sent again`,
        );
    },
    close: () => {
      downlink.stop();
      return client.endAsync();
    },
  };
}

/** mqtt.js's TLS options for `url`: the broker's certificate always checked, TLS 1.2 at least. */
export function mqttTlsOptions(url: string, tls: MqttTls | undefined): mqtt.IClientOptions {
  if (!url.startsWith('mqtts:') && !url.startsWith('wss:')) return {};
  return { ...tls, rejectUnauthorized: true, minVersion: 'TLSv1.2' } as mqtt.IClientOptions;
}

/**
 * The MQTT downlink subscription, made on every (re)connect. A refusal (the broker's ACL, a SUBACK
 * reason code ≥ 0x80) or a failure is logged and tried again with doubling, capped delays until it
 * is granted or the uplink closes: an edge that silently stopped hearing commands would look
 * healthy. `state` is what the agent's health reports.
 */
function subscribeDownlink(client: mqtt.MqttClient, o: UplinkOptions) {
  const topic = downlinkTopic(o.edgeId);
  const firstMs = o.downlinkRetry?.firstMs ?? 1000;
  const maxMs = o.downlinkRetry?.maxMs ?? 60_000;
  const state = { subscribed: false, failures: 0 };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let round = 0; // one per (re)connect: a late answer of an earlier round changes nothing
  let refused = false; // since the last grant: say so once it is granted again
  const attempt = (mine: number, tries: number): void => {
    timer = undefined;
    if (stopped || mine !== round || !client.connected) return; // the next 'connect' starts again
    client
      .subscribeAsync(topic, { qos: 1 })
      .then((granted) => {
        const no = granted.find((g) => g.qos >= 0x80);
        if (no !== undefined) throw new AgentError('DOWNLINK_REFUSED', `${topic}: reason code ${no.qos}`);
        if (stopped || mine !== round) return;
        state.subscribed = true;
        if (refused)
          o.log.info({ topic, failures: state.failures }, 'downlink subscribed; commands arrive again');
        refused = false;
      })
      .catch((cause: unknown) => {
        if (stopped || mine !== round) return;
        state.subscribed = false;
        state.failures++;
        refused = true;
        const retryInMs = Math.min(maxMs, firstMs * 2 ** Math.min(tries, 30));
        const err =
          cause instanceof AgentError
            ? cause
            : new AgentError('DOWNLINK_REFUSED', cause instanceof Error ? cause.message : String(cause), {
                cause,
              });
        o.log.warn(
          { err, topic, failures: state.failures, retryInMs },
          'downlink subscription refused: commands cannot arrive; trying again',
        );
        timer = setTimeout(() => attempt(mine, tries + 1), retryInMs);
      });
  };
  return {
    state: state as DownlinkState,
    start(): void {
      clearTimeout(timer);
      state.subscribed = false;
      attempt(++round, 0);
    },
    lost(): void {
      state.subscribed = false;
    },
    stop(): void {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

async function openKafka(broker: BrokerConfig & { transport: 'kafka' }, o: UplinkOptions): Promise<Uplink> {
  const kafka = new Kafka({
    clientId: o.edgeId,
    brokers: [...broker.brokers],
    logLevel: logLevel.NOTHING,
    ...(broker.security === 'sasl_ssl'
      ? {
          ssl: o.brokerTls?.ca === undefined ? true : { ca: [o.brokerTls.ca] },
          sasl: { mechanism: 'scram-sha-512' as const, username: o.edgeId, password: o.password },
        }
      : {}),
  });
  // One message in flight at a time and idempotent: the hub sees the edge's order, once.
  const producer = kafka.producer({ allowAutoTopicCreation: true, idempotent: true, maxInFlightRequests: 1 });
  // Whether commands can arrive: false while a consumer kafkajs gave up waits for its successor.
  const downlink = { subscribed: false, failures: 0 };
  const consumers = new RestartingConsumer({
    name: 'agent downlink',
    log: o.log,
    create: () => kafka.consumer({ groupId: `edge-${o.edgeId}` }),
    run: async (consumer) => {
      await consumer.connect();
      await consumer.subscribe({ topic: KAFKA_TOPICS.downlink });
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (message.key?.toString() === o.edgeId && message.value) o.onCommand(message.value);
        },
      });
    },
    onDown: (down) => {
      downlink.subscribed = !down;
      if (down) downlink.failures++;
    },
  });
  let connected = false;
  producer.on(producer.events.CONNECT, () => {
    connected = true;
    o.onConnect();
  });
  producer.on(producer.events.DISCONNECT, () => {
    connected = false;
  });
  try {
    await producer.connect();
    await consumers.start();
    downlink.subscribed = true;
    consumers.arm();
  } catch (err) {
    // A refused login says why (kafkajs's message names the mechanism and reason, never the password).
    const refused = (err as { name?: string }).name === 'KafkaJSSASLAuthenticationError';
    o.log.warn(
      { err, broker: brokerName(broker), reason: refused ? 'authentication failed' : 'unavailable' },
      refused ? 'Kafka refused the edge’s login' : 'Kafka not reachable',
    );
    await Promise.all([producer.disconnect(), consumers.stop()]).catch(() => {});
    throw err;
  }
  return {
    broker,
    get connected() {
      return connected;
    },
    // The subscription succeeded above (or this function threw); a consumer kafkajs gives up
    // later is replaced (decision 053), and the state says so meanwhile.
    downlink,
    send: async (m) => {
      await producer.send({
        topic: KAFKA_TOPICS.compact,
        acks: -1, // idempotent producers require all replicas' acknowledgement
        messages: [{ key: o.edgeId, value: Buffer.from(m.payload) }],
      });
    },
    close: async () => {
      await Promise.all([producer.disconnect(), consumers.stop()]);
    },
  };
}
