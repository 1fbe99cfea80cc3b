/**
 * The hub side of MQTT: a shared subscription to every edge's uplink, so several hub processes
 * split the ingest. A QoS 1 message is acknowledged to the broker only once what it carries is
 * in the edge's mailbox in Redis; a message that cannot be decoded is counted, logged with the
 * edge id and dead-lettered, then acknowledged (redelivering it would not help).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { type Logger, silentLogger } from '../actors/mod.ts';
import { appendMessages, execOrThrow, type Keyspace, type Redis, toError } from '../bus/mod.ts';
import { decodeCompact } from './compact.ts';
import { type LinkStats, queueDeviceDeadLetter } from './dead-letter.ts';
import { DecodeError } from './errors.ts';
import type { HubMessage } from './normalized.ts';
import { parseUplinkTopic, UplinkKind } from './protocol.ts';

export interface MqttLinkOptions {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  /** Shared-subscription group: hub processes in one group split the messages. Default `hub`. */
  readonly group?: string;
  /**
   * The link's MQTT client id, stable across restarts of the same link process: the broker keeps
   * its session (subscription and unacknowledged QoS 1 messages) for `sessionExpirySeconds` and
   * redelivers them when it comes back. Default `<username>-link`; give each link process its own.
   */
  readonly clientId?: string;
  readonly sessionExpirySeconds?: number;
  /** For tests of crash recovery only: exit the process after receiving, before enqueueing. */
  readonly crashBeforeEnqueue?: boolean;
  readonly logger?: Logger;
}

export class MqttLink implements AsyncDisposable {
  readonly stats: LinkStats = { received: 0, enqueued: 0, deadLettered: {} };
  readonly #o: MqttLinkOptions;
  readonly #log: Logger;
  #client: MqttClient | undefined;

  constructor(options: MqttLinkOptions) {
    this.#o = options;
    this.#log = (options.logger ?? silentLogger).child({ link: 'mqtt', clientId: options.clientId });
  }

  /** Connects and subscribes; resolves once the subscription is granted. */
  async start(): Promise<this> {
    const { url, username, password, group = 'hub' } = this.#o;
    const client = mqtt.connect(url, {
      username,
      password,
      clientId: this.#o.clientId ?? `${username}-link`,
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: this.#o.sessionExpirySeconds ?? 3600 },
      reconnectPeriod: 500,
      customHandleAcks: (topic, message, _packet, done) => {
        this.#handle(topic, message).then(
          () => done(0),
          (error: unknown) => {
            this.#log.error({ err: toError(error), topic }, 'could not take a message; not acknowledging it');
            done(toError(error));
          },
        );
      },
    });
    this.#client = client;
    client.on('error', (err) => this.#log.warn({ err }, 'mqtt error'));
    // QoS 0 messages come through 'message' without customHandleAcks.
    client.on('message', (topic, message, packet) => {
      if (packet.qos === 0)
        void this.#handle(topic, message).catch((err: unknown) =>
          this.#log.error({ err: toError(err), topic }, 'QoS 0 message lost'),
        );
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const granted = await client.subscribeAsync(`$share/${group}/dh/v1/+/up/#`, { qos: 1 });
    if (granted[0] === undefined || granted[0].qos > 1)
      throw new Error(`MQTT link: subscription refused (${JSON.stringify(granted)})`);
    this.#log.info({ url, group }, 'mqtt link subscribed');
    return this;
  }

  async #handle(topic: string, message: Buffer): Promise<void> {
    this.stats.received++;
    const route = parseUplinkTopic(topic);
    let messages: HubMessage[];
    try {
      if (route === undefined) throw new DecodeError('BAD_HEADER', `not an uplink topic: ${topic}`);
      if (message.byteLength > 0 && (message[0]! & 0x0f) !== UplinkKind[route.kind]) {
        throw new DecodeError(
          'BAD_HEADER',
          `topic says ${route.kind}, header says kind ${message[0]! & 0x0f}`,
        );
      }
      messages = decodeCompact(message);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      await this.#deadLetter(route?.edgeId, topic, message, error);
      return;
    }
    const address = `edge/${route.edgeId}`;
    if (this.#o.crashBeforeEnqueue) process.exit(70);
    await appendMessages(
      this.#o.redis,
      this.#o.keyspace,
      messages.map((m) => ({ address, method: m.method, payload: m.payload })),
    );
    this.stats.enqueued += messages.length;
  }

  async #deadLetter(
    edgeId: string | undefined,
    topic: string,
    message: Buffer,
    error: DecodeError,
  ): Promise<void> {
    const pipeline = this.#o.redis.pipeline();
    queueDeviceDeadLetter(
      pipeline,
      this.#o.keyspace,
      { stats: this.stats, log: this.#log, link: `mqtt:${this.#o.username}` },
      { edgeId, source: topic, entryId: '-', payload: message, error },
    );
    await execOrThrow(pipeline);
  }

  async stop(): Promise<void> {
    await this.#client?.endAsync();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
