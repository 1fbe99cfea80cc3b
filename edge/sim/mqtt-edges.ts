/**
 * Simulated edges over MQTT: each has its own connection and credentials, and publishes on its
 * own topics (compact: `dh/v1/<id>/up/<kind>`; legacy JSON: `dh/v1/<id>/legacy`). Over TLS
 * (`mqtts://`) each checks the broker's certificate against the fleet CA and logs in with its
 * password, or with its own certificate on the broker's mTLS listener.
 */
import { createConnection } from 'node:net';
import mqtt, { MqttClient } from 'mqtt';
import {
  type Backoff,
  jitteredBackoffMs,
  RECONNECT_BACKOFF,
  reconnectWithBackoff,
  trackUnheard,
} from '../agent/mod.ts';
import {
  downlinkTopic,
  encodeCompact,
  legacyQos,
  legacyUplinkTopic,
  UPLINK_QOS,
  UplinkKind,
  uplinkTopic,
} from '../protocol/mod.ts';
import type { Acknowledge, Outgoing, SimEdge } from './sim-edge.ts';

/** The connection count the simulator reports, kept by the connections' events. */
export interface ConnectionCount {
  connected: number;
  /** QoS 1 publishes the broker acknowledged with 0x10 (nobody subscribed), each sent again. */
  unheard: number;
}

/** Per client: whether a resolved publish was one nobody heard (../agent/unheard.ts), and its counts. */
const unheardOf = new WeakMap<
  MqttClient,
  { heardNot: (id: number | undefined) => boolean; stats: ConnectionCount }
>();

/** Clients their edge has stopped (endEdge): a resend due later must not use them. */
const ended = new WeakSet<MqttClient>();

/** Stops an edge's connection for good (a resend of an unheard message waiting is dropped). */
export async function endEdge(client: MqttClient): Promise<void> {
  ended.add(client);
  await client.endAsync();
}

/**
 * Publishes until the broker had a subscriber to give it to, as the agent does: a QoS 1 message
 * acknowledged with 0x10 goes again after a jittered, growing delay; `done` hears the last try.
 */
function publishUntilHeard(
  client: MqttClient,
  message: { topic: string; payload: string | Buffer; qos: 0 | 1 },
  done: (error?: Error) => void,
  attempt = 0,
): void {
  client.publish(message.topic, message.payload, { qos: message.qos }, (error, packet) => {
    // QoS 0 has no PUBACK to read: nothing to look up.
    const unheard = message.qos === 1 && !error ? unheardOf.get(client) : undefined;
    if (unheard?.heardNot(packet?.messageId)) {
      unheard.stats.unheard++;
      const delay = jitteredBackoffMs(attempt, RECONNECT_BACKOFF);
      setTimeout(() => {
        // The edge stopped meanwhile (endEdge): its client's stores are closed, nothing to send on.
        if (ended.has(client)) done(new Error('edge stopped before a subscriber heard its message'));
        else publishUntilHeard(client, message, done, attempt + 1);
      }, delay).unref();
      return;
    }
    done(error);
  });
}

/** TLS of the simulated edges (PEM). */
export interface SimMqttTls {
  /** The CA the broker's certificate must chain to (the fleet CA). */
  readonly ca: string | Buffer;
  /** Edge `id`'s certificate and key, for the mTLS listener (none: passwords over TLS). */
  readonly certificate?: (edgeId: string) => { readonly cert: string; readonly key: string };
}

/**
 * Edge `id`'s own connection to `url`; `stats.connected` follows it up and down. With `onCommand`
 * it subscribes to its downlink topic and hands each command (JSON) over. It reconnects as the
 * agent does (../agent/reconnect.ts: jittered, growing delays; `reconnect`, else the agent's
 * default); `onUp` hears each connection, with when the previous one dropped (none the first time).
 */
export function connectEdge(
  id: string,
  o: {
    url: string;
    password: string;
    stats: ConnectionCount;
    tls?: SimMqttTls;
    onCommand?: (payload: Buffer) => void;
    reconnect?: Backoff;
    onUp?: (downSince: number | undefined) => void;
    /** The local address to connect from (./source-address.ts); default: the system's choice. */
    sourceAddress?: string;
  },
): MqttClient {
  const tls =
    o.tls === undefined
      ? {}
      : { ca: o.tls.ca, ...o.tls.certificate?.(id), rejectUnauthorized: true, minVersion: 'TLSv1.2' };
  const options: mqtt.IClientOptions = {
    ...(tls as mqtt.IClientOptions),
    username: id,
    password: o.password,
    clientId: id,
    protocolVersion: 5,
    reconnectPeriod: 0,
    queueQoSZero: false,
  };
  const client = connectFrom(o.url, options, o.sourceAddress);
  let downSince: number | undefined;
  // Counted once per connection: a connection attempt that fails (refused, timed out in a
  // reconnect storm) also ends in 'close', and must not take another edge's count away.
  let up = false;
  client.on('connect', () => {
    if (!up) o.stats.connected++;
    up = true;
    o.onUp?.(downSince);
  });
  client.on('close', () => {
    if (up) o.stats.connected--;
    if (up) downSince = Date.now();
    up = false;
  });
  reconnectWithBackoff(client, o.reconnect);
  unheardOf.set(client, { heardNot: trackUnheard(client), stats: o.stats });
  client.on('error', () => {});
  if (o.onCommand !== undefined) {
    const onCommand = o.onCommand;
    client.on('message', (_topic, payload) => onCommand(payload));
    client.subscribe(downlinkTopic(id), { qos: 1 });
  }
  return client;
}

/**
 * `mqtt.connect`, from `sourceAddress` when given. mqtt.js hands its TLS options to `tls.connect`
 * whole (so `localAddress` reaches it), but opens plain TCP with host and port only: there the
 * client is built on a stream of our own, made again for each reconnect.
 */
function connectFrom(
  url: string,
  options: mqtt.IClientOptions,
  sourceAddress: string | undefined,
): MqttClient {
  if (sourceAddress === undefined) return mqtt.connect(url, options);
  const { protocol, hostname, port } = new URL(url);
  if (protocol === 'mqtts:')
    return mqtt.connect(url, { ...options, localAddress: sourceAddress } as mqtt.IClientOptions);
  if (protocol !== 'mqtt:')
    throw new RangeError(`connectEdge: a source address needs mqtt: or mqtts:, got ${url}`);
  const target = { host: hostname, port: Number(port || 1883), localAddress: sourceAddress };
  return new MqttClient(() => createConnection(target), options);
}

/** Publishes `out` on the edge's own connection (it has one); `acknowledged` hears when the broker has it. */
export function publish(edge: SimEdge, out: Outgoing, acknowledged: Acknowledge): void {
  const [topic, payload, qos] =
    'compact' in out
      ? [
          uplinkTopic(edge.id, out.compact.kind),
          Buffer.from(encodeCompact(out.compact)),
          UPLINK_QOS[out.compact.kind],
        ]
      : [legacyUplinkTopic(edge.id), out.legacy.json, legacyQos(out.legacy.msgType)];
  publishUntilHeard(edge.client!, { topic, payload, qos }, (error) => acknowledged(edge.index, 1, error));
}

/**
 * A QoS 1 message its link cannot take (an alarm whose header names another kind): counted and
 * dead-lettered at the hub; `acknowledged` hears when the broker has it.
 */
export function publishMalformed(edge: SimEdge, acknowledged: Acknowledge): void {
  const header = (UplinkKind.alarm + 1) & 0x0f;
  const payload = Buffer.from([header, 0xff, 0xfe, 0xfd]);
  publishUntilHeard(edge.client!, { topic: uplinkTopic(edge.id, 'alarm'), payload, qos: 1 }, (error) =>
    acknowledged(edge.index, 1, error),
  );
}
