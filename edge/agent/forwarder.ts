/**
 * Store and forward: every message the agent sends gets its sequence number and goes into the
 * bounded on-disk queue first; the queue's head is sent to the current broker, in order, and
 * taken off only once the broker has it. Log batches (`sendLog`) have a bounded queue of their
 * own (`<dataDir>/logs`) and go only when the first one is empty: telemetry and alarms first. Moving to another broker or transport keeps what is
 * queued: the new connection takes over once it is up, and the previous one is closed.
 */

import { join } from 'node:path';
import { type CompactMessage, encodeCompact, UPLINK_QOS, uplinkTopic } from '../protocol/mod.ts';
import { DiskQueue, type QueuedMessage } from './disk-queue.ts';
import type { Logger } from './logger.ts';
import { jitteredBackoffMs, RECONNECT_BACKOFF } from './reconnect.ts';
import {
  type BrokerConfig,
  brokerName,
  type DownlinkState,
  type MqttTls,
  openUplink,
  type Uplink,
  type UplinkOptions,
} from './uplink.ts';

export interface ForwarderOptions {
  readonly edgeId: string;
  readonly password: string;
  /** TLS of an `mqtts://` broker. */
  readonly brokerTls?: UplinkOptions['brokerTls'];
  readonly dataDir: string;
  readonly maxQueueBytes?: number;
  readonly downlinkRetry?: UplinkOptions['downlinkRetry'];
  /** Delays between reconnect attempts and between tries of a send that failed (default 1 s doubling to 15 s, jittered; reconnect.ts). */
  readonly reconnect?: UplinkOptions['reconnect'];
  /** A command arrived on the downlink (its JSON). */
  readonly onCommand: (payload: Buffer) => void;
  readonly log: Logger;
  /** Aborted when the agent stops: nothing more is sent. */
  readonly signal: AbortSignal;
}

export interface ForwarderStats {
  readonly sent: number;
  readonly queued: number;
  readonly dropped: number;
  readonly brokerUrl: string | undefined;
  readonly downlink: DownlinkState | undefined;
}

/** `message` numbered `seq`, as the queue holds it: its uplink topic, QoS and compact bytes. */
function queued(edgeId: string, message: CompactMessage, seq: number): QueuedMessage {
  return {
    topic: uplinkTopic(edgeId, message.kind),
    qos: UPLINK_QOS[message.kind],
    payload: encodeCompact({ ...message, seq } as CompactMessage),
  };
}

/** Bound of the log batches' queue: past it the oldest batches go, counted. */
const MAX_LOG_QUEUE_BYTES = 4 * 1024 * 1024;

/** A send given up because the connection it went out on was replaced: the head stays queued. */
const REPLACED = Symbol('replaced');

function replacement(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export class Forwarder {
  readonly #o: ForwarderOptions;
  readonly #queue: DiskQueue;
  /** Log batches, sent only when `#queue` is empty. */
  readonly #logQueue: DiskQueue;
  #seq = 0;
  #sent = 0;
  #uplink: Uplink | undefined;
  /** The edge's secret for the next connection (changes when a rotation is adopted). */
  #password: string;
  #brokerTls: MqttTls | undefined;
  #pumping = false;
  #closed = false;
  /** Resolved when the connection in use is replaced (`connect`). */
  #replaced = replacement();
  #retry: ReturnType<typeof setTimeout> | undefined;
  /** Sends failed in a row: the next try waits longer (jittered, as reconnects do). */
  #failures = 0;
  /** Clients still trying to reach their broker (ended on close). */
  readonly #connecting = new Set<{ end(force?: boolean): unknown }>();

  constructor(options: ForwarderOptions) {
    this.#o = options;
    this.#password = options.password;
    this.#brokerTls = options.brokerTls;
    this.#queue = new DiskQueue(options.dataDir, { maxBytes: options.maxQueueBytes });
    this.#logQueue = new DiskQueue(join(options.dataDir, 'logs'), { maxBytes: MAX_LOG_QUEUE_BYTES });
  }

  /** What it sent and holds, and the broker and downlink subscription in use (undefined before the first connection). */
  get stats(): ForwarderStats {
    const [queue, uplink] = [this.#queue, this.#uplink];
    const [brokerUrl, downlink] =
      uplink === undefined ? [] : [brokerName(uplink.broker), { ...uplink.downlink }];
    return { sent: this.#sent, queued: queue.length, dropped: queue.dropped, brokerUrl, downlink };
  }

  /** The broker in use (undefined before the first connection). */
  get broker(): BrokerConfig | undefined {
    return this.#uplink?.broker;
  }

  /** The log batches' queue: batches waiting, and batches dropped past its bound. */
  get logQueue(): { readonly queued: number; readonly bytes: number; readonly dropped: number } {
    const q = this.#logQueue;
    return { queued: q.length, bytes: q.bytes, dropped: q.dropped };
  }

  /** Queues an encoded `log` batch (edge/protocol/logs.ts); it goes once nothing else waits. */
  sendLog(payload: Uint8Array): void {
    this.#logQueue.push({ topic: uplinkTopic(this.#o.edgeId, 'log'), qos: UPLINK_QOS.log, payload });
    void this.#pump();
  }

  /** Numbers `message`, queues it and sends what waits. */
  send(message: CompactMessage): void {
    this.#queue.push(queued(this.#o.edgeId, message, ++this.#seq));
    void this.#pump();
  }

  /** The edge's secret and certificate from now on (a rotation, a renewal): the next connection uses them. */
  useCredentials(credentials: { password?: string; brokerTls?: MqttTls }): void {
    this.#password = credentials.password ?? this.#password;
    this.#brokerTls = credentials.brokerTls ?? this.#brokerTls;
  }

  /** Connects to `broker` with the edge's credentials now; once connected it becomes the broker, and the previous one is closed. */
  async connect(broker: BrokerConfig): Promise<void> {
    const uplink = await openUplink(broker, {
      ...this.#o,
      password: this.#password,
      ...(this.#brokerTls === undefined ? {} : { brokerTls: this.#brokerTls }),
      onConnect: () => void this.#pump(),
      pending: this.#connecting,
    });
    // Closed while this connection was being made (a Kafka uplink joins its group first): it is
    // not taken, and closed here, or nothing would ever close it.
    if (this.#closed) {
      await uplink.close().catch(() => {});
      return;
    }
    const previous = this.#uplink;
    this.#uplink = uplink;
    // A send in flight on the previous connection may never be answered now: the pump moves on.
    const wasReplaced = this.#replaced;
    this.#replaced = replacement();
    wasReplaced.resolve();
    if (previous) void previous.close().catch(() => {});
    void this.#pump();
  }

  /**
   * Sends the queue's head until it is empty or the broker is gone, in order; then the log
   * queue's, one batch at a time, looking at the first queue again before each.
   */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (;;) {
        const uplink = this.#uplink;
        const queue = this.#queue.length > 0 ? this.#queue : this.#logQueue;
        const head = queue.peek();
        if (!uplink?.connected || head === undefined || this.#o.signal.aborted) return;
        try {
          const replaced = this.#replaced.promise;
          if ((await Promise.race([uplink.send(head), replaced.then(() => REPLACED)])) === REPLACED) continue;
        } catch (err) {
          const delayMs = jitteredBackoffMs(this.#failures++, this.#o.reconnect ?? RECONNECT_BACKOFF);
          this.#o.log.warn({ err, delayMs }, 'send failed; keeping the message, trying again');
          this.#retry ??= setTimeout(() => {
            this.#retry = undefined;
            void this.#pump();
          }, delayMs);
          return;
        }
        this.#failures = 0;
        if (uplink !== this.#uplink && head.qos === 0) continue; // switched mid-send: send again on the new broker
        queue.shift();
        if (queue === this.#queue) this.#sent++;
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** Stops retrying, ends connections still being made and closes the broker connection. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    for (const c of this.#connecting) c.end(true);
    await this.#uplink?.close();
  }
}
