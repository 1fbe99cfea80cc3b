/**
 * Simulated edges over MQTT: each has its own connection and credentials, and publishes on its
 * own topics (compact: `dh/v1/<id>/up/<kind>`; legacy JSON: `dh/v1/<id>/legacy`). Over TLS
 * (`mqtts://`) each checks the broker's certificate against the fleet CA and logs in with its
 * password, or with its own certificate on the broker's mTLS listener.
 */
import mqtt, { type MqttClient } from 'mqtt';
import {
  downlinkTopic,
  encodeCompact,
  legacyQos,
  legacyUplinkTopic,
  UPLINK_QOS,
  UplinkKind,
  uplinkTopic,
} from '../protocol/mod.ts';
import { type Backoff, jitteredBackoffMs } from './backoff.ts';
import type { Acknowledge, Outgoing, SimEdge } from './sim-edge.ts';

/** The connection count the simulator reports, kept by the connections' events. */
export interface ConnectionCount {
  connected: number;
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
 * it subscribes to its downlink topic and hands each command (JSON) over. With `reconnect` it
 * reconnects after a jittered, growing delay (backoff.ts) instead of mqtt.js's fixed 2 s in
 * lockstep; `onUp` hears each connection, with when the previous one dropped (none the first time).
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
  },
): MqttClient {
  const tls =
    o.tls === undefined
      ? {}
      : { ca: o.tls.ca, ...o.tls.certificate?.(id), rejectUnauthorized: true, minVersion: 'TLSv1.2' };
  const client = mqtt.connect(o.url, {
    ...(tls as mqtt.IClientOptions),
    username: id,
    password: o.password,
    clientId: id,
    protocolVersion: 5,
    reconnectPeriod: o.reconnect === undefined ? 2000 : 0,
    queueQoSZero: false,
  });
  let attempt = 0;
  let downSince: number | undefined;
  // Counted once per connection: a connection attempt that fails (refused, timed out in a
  // reconnect storm) also ends in 'close', and must not take another edge's count away.
  let up = false;
  client.on('connect', () => {
    if (!up) o.stats.connected++;
    up = true;
    attempt = 0;
    o.onUp?.(downSince);
  });
  client.on('close', () => {
    if (up) o.stats.connected--;
    if (up) downSince = Date.now();
    up = false;
    // Not after end() (disconnecting): a stop, or a storm's own end-then-reconnect.
    if (o.reconnect === undefined || client.disconnecting) return;
    const delay = jitteredBackoffMs(attempt++, o.reconnect);
    // The same stores: QoS 1 messages not yet acknowledged go out again on the new connection.
    const stores = { incomingStore: client.incomingStore, outgoingStore: client.outgoingStore };
    setTimeout(() => {
      if (!client.connected && !client.disconnecting) client.reconnect(stores);
    }, delay);
  });
  client.on('error', () => {});
  if (o.onCommand !== undefined) {
    const onCommand = o.onCommand;
    client.on('message', (_topic, payload) => onCommand(payload));
    client.subscribe(downlinkTopic(id), { qos: 1 });
  }
  return client;
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
  edge.client!.publish(topic, payload, { qos }, (error) => acknowledged(edge.index, 1, error));
}

/**
 * A QoS 1 message its link cannot take (an alarm whose header names another kind): counted and
 * dead-lettered at the hub; `acknowledged` hears when the broker has it.
 */
export function publishMalformed(edge: SimEdge, acknowledged: Acknowledge): void {
  const header = (UplinkKind.alarm + 1) & 0x0f;
  const payload = Buffer.from([header, 0xff, 0xfe, 0xfd]);
  edge.client!.publish(uplinkTopic(edge.id, 'alarm'), payload, { qos: 1 }, (error) =>
    acknowledged(edge.index, 1, error),
  );
}
