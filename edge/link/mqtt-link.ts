/**
 * The hub side of MQTT: a shared subscription to every edge's uplink, so several hub processes
 * split the ingest. A QoS 1 message is acknowledged to the broker once it is either in the edge's
 * mailbox in Redis or dead-lettered there: a message that cannot be taken (bad topic, too large,
 * undecodable — whatever the reason) is counted, logged with the edge id and dead-lettered, then
 * acknowledged (redelivering it would not help), so poison can never fill the in-flight window.
 * Only a Redis failure leaves a message unacknowledged; once Redis answers again the link
 * reconnects, and the broker delivers what it holds for the session again.
 */
import mqtt, { type IClientOptions, type ISubscriptionMap, type MqttClient } from 'mqtt';
import { toError } from '../../bus/mod.ts';
import {
  DecodeError,
  decodeCompact,
  decodeLegacy,
  describe,
  isValidEdgeId,
  PROTOCOL_VERSION,
  parseUplinkTopic,
  SubscribeRefusedError,
  UplinkKind,
  uplinkFilters,
} from '../protocol/mod.ts';
import { type EdgeLink, Ingest, type IngestBatch, type IngestOptions } from './ingest.ts';

/**
 * Largest packet the link accepts (MQTT 5 Maximum Packet Size, told to the broker): above the
 * 16 KiB device limit, so a message between the two is dead-lettered with its edge and reason;
 * a larger one the broker does not send (its own limit should be lower still).
 */
export const LINK_MAX_PACKET_BYTES = 256 * 1024;

/**
 * TLS towards an `mqtts://` broker (PEM): the CA the broker's certificate must chain to (the fleet
 * CA) and, for the mTLS listener, the link's client certificate and key — its CN is the link user
 * the broker's ACLs know (`use_identity_as_username`), and no password is sent.
 */
export interface MqttLinkTls {
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

/** mqtt.js's options for logging in as `username` at `url`: a certificate, or the password. */
export function mqttLogin(
  url: string,
  o: { readonly username: string; readonly password?: string; readonly tls?: MqttLinkTls },
): IClientOptions {
  const secure = url.startsWith('mqtts:') || url.startsWith('wss:');
  if (o.tls?.cert !== undefined && !secure)
    throw new RangeError(`A client certificate needs an mqtts:// or wss:// broker, got ${url}`);
  if (o.tls?.cert === undefined && o.password === undefined)
    throw new RangeError(`MQTT login as ${o.username}: give a password or a client certificate`);
  return {
    username: o.username,
    ...(o.tls?.cert === undefined ? { password: o.password } : {}),
    ...(secure ? ({ ...o.tls, rejectUnauthorized: true, minVersion: 'TLSv1.2' } as IClientOptions) : {}),
  };
}

export interface MqttLinkOptions extends IngestOptions {
  readonly url: string;
  /** The link user: with a client certificate, the certificate's CN is who the broker sees. */
  readonly username: string;
  /** The link user's password (not with a client certificate). */
  readonly password?: string;
  /** TLS of an `mqtts://` broker: the CA to check it with, and the link's certificate. */
  readonly tls?: MqttLinkTls;
  /**
   * Shared-subscription group: hub processes in one group split the messages. Default `hub`; ''
   * subscribes plainly (one link per broker), which survives a mosquitto restart (linkFilters).
   */
  readonly group?: string;
  /**
   * The link's MQTT client id, stable across restarts of the same link process: the broker keeps
   * its session (subscription and unacknowledged QoS 1 messages) for `sessionExpirySeconds` and
   * redelivers them when it comes back. Default `<username>-link`; give each link process its own.
   */
  readonly clientId?: string;
  readonly sessionExpirySeconds?: number;
  /**
   * How long a QoS 0 message waits for company before its batch goes to Redis, in ms (default
   * `QOS0_LINGER_MS`). Longer: fewer, larger pipelines (CPU) for a little latency (decision 058).
   */
  readonly lingerMs?: number;
  /**
   * Messages after which a batch goes at once, without waiting out its linger (default
   * `QOS0_BATCH_MAX`): a busy link's batches stay small and prompt, a quiet one's still wait.
   */
  readonly batchMax?: number;
}

/** The edge a topic that is not an uplink topic still names (`dh/v1/<edgeId>/…`), if any. */
function edgeOfTopic(topic: string): string | undefined {
  const parts = topic.split('/', 3);
  return parts[0] === 'dh' && parts[1] === `v${PROTOCOL_VERSION}` && isValidEdgeId(parts[2])
    ? parts[2]
    : undefined;
}

/**
 * The link's uplink filters: shared in `group`, or with `group` '' plain ones. mosquitto 2.0
 * persists a clean:false session's plain subscriptions but not its shared ones, so a link that is
 * alone on its broker (one per broker shard) keeps its subscription across a broker restart and
 * no edge's acknowledged QoS 1 message arrives to nobody.
 */
function linkFilters(group: string): string[] {
  return group === '' ? uplinkFilters('-').map((f) => f.replace(/^\$share\/-\//, '')) : uplinkFilters(group);
}

/** Decodes a compact message whose header must name the topic's kind. */
function decodeFor(kind: UplinkKind) {
  return (bytes: Uint8Array): ReturnType<typeof decodeCompact> => {
    if (bytes.byteLength > 0 && (bytes[0]! & 0x0f) !== UplinkKind[kind])
      throw new DecodeError('BAD_HEADER', `topic says ${kind}, header says kind ${bytes[0]! & 0x0f}`);
    return decodeCompact(bytes);
  };
}
const DECODERS = Object.fromEntries([
  ...(Object.keys(UplinkKind) as UplinkKind[]).map((k) => [k, decodeFor(k)]),
  ['legacy', decodeLegacy],
]) as Record<UplinkKind | 'legacy', (bytes: Uint8Array, edgeId: string) => ReturnType<typeof decodeCompact>>;

/**
 * Messages sent to Redis in one pipeline (one write: on loopback the write system call, not the
 * bytes, is what a message costs). QoS 0 messages wait up to `lingerMs` for company; a QoS 1
 * message sends the batch at the end of the event-loop turn, since mqtt.js hands over the
 * connection's next packet only once it is acknowledged.
 */
interface Batch {
  readonly ingest: IngestBatch;
  /** Messages taken (decoded, logs and dead letters alike). */
  size: number;
  /** Sent at the end of this event-loop turn (a QoS 1 message waits, or the batch is full). */
  urgent: boolean;
  /** QoS 1 messages waiting for the batch (QoS 0 ones do not wait). */
  readonly waiters: { resolve: () => void; reject: (error: unknown) => void }[];
}

/**
 * The default linger of a QoS 0 message. 20 ms, not 5: a compact fleet's link sees ~1,400
 * messages a second per broker shard, which 5 ms split into batches of ~7, each its own pipeline,
 * timer and enqueue calls (decision 058 has the measurement).
 */
export const QOS0_LINGER_MS = 20;

/**
 * The messages after which a batch goes before its linger is out: 64. A legacy fleet's link
 * (~6,500 messages a second) fills it in ~10 ms, where waiting out the 20 ms cost p50 +15 ms and
 * no measurable CPU; a compact shard's link gathers ~28 in its 20 ms (decision 058).
 */
export const QOS0_BATCH_MAX = 64;

export class MqttLink implements EdgeLink {
  readonly transport = 'mqtt';
  readonly #o: MqttLinkOptions;
  readonly #ingest: Ingest;
  #client: MqttClient | undefined;
  #batch: Batch | undefined;
  #redelivery: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(options: MqttLinkOptions) {
    this.#o = options;
    this.#ingest = new Ingest('mqtt', `mqtt:${options.clientId ?? options.username}`, options);
  }

  get stats() {
    return this.#ingest.stats;
  }

  /** Edges' log lines per outcome (accepted, dropped_rate, dropped_bytes, malformed, no_store). */
  get logLines() {
    return this.#ingest.logLines.counts;
  }

  /** Connects and subscribes; resolves once the subscriptions are granted. */
  async start(): Promise<this> {
    const { url, username, group = 'hub' } = this.#o;
    const log = this.#ingest.log;
    const client = mqtt.connect(url, {
      ...mqttLogin(url, this.#o),
      clientId: this.#o.clientId ?? `${username}-link`,
      protocolVersion: 5,
      clean: false,
      reconnectPeriod: 500,
      properties: {
        sessionExpiryInterval: this.#o.sessionExpirySeconds ?? 3600,
        maximumPacketSize: LINK_MAX_PACKET_BYTES,
        // The broker's in-flight window towards the link (mosquitto: 20 without it).
        receiveMaximum: 1000,
      },
      // PUBACK once the message is enqueued or dead-lettered. Nothing here may throw: mqtt.js
      // calls this inside its packet handling, where a throw would take the process down.
      // (Four positional parameters: the signature is mqtt.js's.)
      customHandleAcks: (topic, message, _packet, done) => {
        let taken: Promise<void>;
        try {
          taken = this.#handle(topic, message, 1) ?? Promise.resolve();
        } catch (error) {
          taken = Promise.reject(error);
        }
        taken.then(
          () => done(0),
          (error: unknown) => {
            log.error({ err: toError(error), topic }, 'could not take a message; not acknowledging it');
            done(toError(error));
            this.#redeliverOnceRedisAnswers();
          },
        );
      },
    });
    this.#client = client;
    client.on('error', (err) => log.warn({ err }, 'mqtt error'));
    // QoS 0 messages come through 'message' without customHandleAcks.
    client.on('message', (topic, message, packet) => {
      if (packet.qos !== 0) return;
      try {
        this.#handle(topic, message, 0);
      } catch (err) {
        log.error({ err: toError(err), topic }, 'QoS 0 message lost: it could not be taken');
      }
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const subscribe = async () => {
      // `resubscribe`: mqtt.js would otherwise skip filters it believes the session still has.
      const map = Object.fromEntries(linkFilters(group).map((f) => [f, { qos: 1 }])) as ISubscriptionMap;
      map.resubscribe = true;
      const granted = await client.subscribeAsync(map);
      if (granted.length !== 2 || granted.some((g) => g.qos > 1))
        throw new SubscribeRefusedError(`MQTT link: subscription refused (${JSON.stringify(granted)})`);
    };
    await subscribe();
    log.info({ url, group }, 'mqtt link subscribed');
    // After a broker restart the session may come back without its shared subscriptions
    // (mosquitto does not persist them): subscribe again on every reconnect (idempotent).
    client.on('connect', () => {
      subscribe().then(
        () => log.info({ url, group }, 'mqtt link subscribed again after reconnecting'),
        (err: unknown) => log.error({ err: toError(err) }, 'could not subscribe again after reconnecting'),
      );
    });
    return this;
  }

  /**
   * Queues the message on the current batch. A QoS 1 message resolves once the batch is in
   * Redis (its PUBACK waits for that); a QoS 0 message returns at once.
   */
  #handle(topic: string, bytes: Buffer, qos: number): Promise<void> | undefined {
    let batch = this.#batch;
    if (batch === undefined) {
      const fresh: Batch = { ingest: this.#ingest.batch(), size: 0, urgent: false, waiters: [] };
      this.#batch = batch = fresh;
      setTimeout(() => this.#flush(fresh), this.#o.lingerMs ?? QOS0_LINGER_MS);
    }
    const route = parseUplinkTopic(topic);
    if (route === undefined) {
      // Dead-lettered with the edge the topic names (the broker lets an edge publish only under its own).
      const message = { edgeId: edgeOfTopic(topic), source: topic, position: '-', bytes };
      this.stats.received++;
      this.#ingest.deadLetter(
        batch.ingest.pipeline,
        message,
        new DecodeError('BAD_TOPIC', `not an uplink topic: ${describe(topic)}`),
      );
    } else {
      const message = { edgeId: route.edgeId, source: topic, position: '-', bytes };
      // A log batch goes to the log sink, never a mailbox; its edge is the topic's (the broker's ACL).
      if (route.kind === 'log') this.#ingest.queueLog(batch.ingest, message);
      else this.#ingest.queue(batch.ingest, message, DECODERS[route.kind]);
    }
    batch.size++;
    if (qos === 0) {
      if (batch.size >= (this.#o.batchMax ?? QOS0_BATCH_MAX)) this.#sendSoon(batch);
      return undefined;
    }
    this.#sendSoon(batch);
    const waiting = batch.waiters;
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  }

  /** Sends the batch at the end of this event-loop turn, with what else the socket read brought. */
  #sendSoon(batch: Batch): void {
    if (batch.urgent) return;
    batch.urgent = true;
    setImmediate(() => this.#flush(batch));
  }

  #flush(batch: Batch): void {
    if (this.#batch !== batch) return; // already sent
    this.#batch = undefined;
    this.#o.hooks?.beforeEnqueue?.();
    this.#ingest.send(batch.ingest).then(
      () => {
        for (const w of batch.waiters) w.resolve();
      },
      (error: unknown) => {
        if (batch.waiters.length === 0)
          this.#ingest.log.error({ err: toError(error) }, 'QoS 0 messages lost: Redis refused their batch');
        for (const w of batch.waiters) w.reject(error);
      },
    );
  }

  /**
   * After Redis failed a QoS 1 message's batch: the broker sends unacknowledged messages again
   * only on a new connection, so once Redis answers, drop the connection (mqtt.js reconnects at
   * once, the session is kept) rather than leave them holding the in-flight window.
   */
  #redeliverOnceRedisAnswers(): void {
    if (this.#redelivery !== undefined || this.#stopped) return;
    const attempt = () => {
      if (this.#stopped) return;
      this.#o.bus.redis.ping().then(
        () => {
          this.#redelivery = undefined;
          if (this.#stopped) return;
          this.#ingest.log.warn(
            {},
            'Redis answers again: reconnecting for the unacknowledged QoS 1 messages',
          );
          this.#client?.stream?.destroy();
        },
        () => {
          this.#redelivery = setTimeout(attempt, 1000);
        },
      );
    };
    this.#redelivery = setTimeout(attempt, 1000);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#redelivery);
    await this.#client?.endAsync();
    await this.#ingest.flushLogCounts();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
