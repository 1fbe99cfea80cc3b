/**
 * What every hub-side link to the edges is (MQTT, Kafka), and the step they share: a device
 * message in, its mailbox entries (or its dead letter) queued on a Redis pipeline. A link sends
 * the pipeline and only then acknowledges the message to its broker (MQTT PUBACK, Kafka offset
 * commit), so what the broker hands over is either in Redis or handed over again.
 */
import type { ChainableCommander } from 'ioredis';
import { type EdgeTransport, type Logger, silentLogger } from '../actors/mod.ts';
import {
  execOrThrow,
  type Keyspace,
  type MailboxMessage,
  openPipeline,
  queueMessageBatch,
  type Redis,
  waitForReplicas,
} from '../bus/mod.ts';
import { type LinkStats, queueDeviceDeadLetter } from './dead-letter.ts';
import { DecodeError } from './errors.ts';
import type { HubMessage } from './normalized.ts';
import { isValidEdgeId } from './protocol.ts';
import type { EdgeRegistry } from './registry.ts';

export interface EdgeLink extends AsyncDisposable {
  readonly transport: EdgeTransport;
  readonly stats: LinkStats;
  /** Connects and starts taking messages; resolves once it is. */
  start(): Promise<this>;
  /** Stops taking messages; what was taken is in Redis and acknowledged. */
  stop(): Promise<void>;
}

/** The options every link takes. */
export interface IngestOptions {
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  /** Refuse edges that are not in the fleet (default: any well-formed edge id is taken). */
  readonly registry?: EdgeRegistry;
  /**
   * The time a mailbox entry carries as its enqueue time, which hub nodes measure latency from:
   * when the link received the message (default), or the device's own timestamp: for benchmarks,
   * where the edges' clock is the hub's and the latency wanted is edge send → handled.
   */
  readonly entryTime?: 'received' | 'device';
  /**
   * Redis replicas that must hold a batch before the link tells the broker it is taken (Redis
   * `WAIT`; default 0). With 1, a Redis master that dies right after a batch cannot take it
   * along (docs/decisions/013); if fewer replicas answer in `replicasTimeoutMs`, the batch
   * fails and the broker delivers it again (sequence numbers make the repeat harmless).
   */
  readonly replicas?: number;
  /** How long to wait for the replicas (default 1000 ms). */
  readonly replicasTimeoutMs?: number;
  readonly logger?: Logger;
}

/** A message as a transport delivered it. */
export interface DeviceMessage {
  /** The edge the transport says sent it (topic, key); undefined when it names none. */
  readonly edgeId: string | undefined;
  /** Topic it came on. */
  readonly source: string;
  /** Where the transport keeps it (partition/offset), for the dead letter. */
  readonly position: string;
  readonly bytes: Uint8Array;
}

/** Device messages on their way to Redis together: their entries, and the dead letters' pipeline. */
export interface IngestBatch {
  readonly pipeline: ChainableCommander;
  readonly entries: MailboxMessage[];
  readonly times: number[];
}

export class Ingest {
  readonly stats: LinkStats = { received: 0, enqueued: 0, deadLettered: {} };
  readonly log: Logger;
  readonly #transport: EdgeTransport;
  readonly #o: IngestOptions;
  readonly #name: string;

  constructor(transport: EdgeTransport, name: string, options: IngestOptions) {
    this.#transport = transport;
    this.#name = name;
    this.#o = options;
    this.log = (options.logger ?? silentLogger).child({ link: name });
  }

  batch(): IngestBatch {
    return { pipeline: openPipeline(this.#o.redis), entries: [], times: [] };
  }

  /**
   * Decodes one device message with `decode` and adds its mailbox entries to `batch`, or queues
   * its dead letter when it cannot be taken (bad edge id, unknown edge, undecodable: a
   * `DecodeError`; anything else is a bug and is thrown). Returns the entries added.
   */
  queue(
    batch: IngestBatch,
    message: DeviceMessage,
    decode: (bytes: Uint8Array, edgeId: string) => HubMessage[],
  ): number {
    this.stats.received++;
    const { edgeId } = message;
    let messages: HubMessage[];
    try {
      if (!isValidEdgeId(edgeId))
        throw new DecodeError('INVALID_FIELD', `not an edge id: ${JSON.stringify(edgeId ?? null)}`);
      if (this.#o.registry !== undefined && !this.#o.registry.has(edgeId))
        throw new DecodeError('UNKNOWN_EDGE', `edge ${edgeId} is not in the fleet`);
      messages = decode(message.bytes, edgeId);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      this.deadLetter(batch.pipeline, message, error);
      return 0;
    }
    const address = `edge/${edgeId}`;
    const now = Date.now();
    const deviceTime = this.#o.entryTime === 'device';
    for (const m of messages) {
      // The payload was built for this delivery: say which transport it came over (the edge
      // actor answers commands over the same one).
      (m.payload as { via?: EdgeTransport }).via = this.#transport;
      batch.entries.push({ address, method: m.method, payload: m.payload });
      batch.times.push(deviceTime ? ((m.payload as { ts?: number }).ts ?? now) : now);
    }
    return messages.length;
  }

  /** Sends the batch to Redis (one script call per hash-tag group); resolves once Redis has it. */
  async send(batch: IngestBatch): Promise<void> {
    if (batch.entries.length > 0)
      queueMessageBatch(batch.pipeline, this.#o.keyspace, batch.entries, (i) => batch.times[i]!);
    await execOrThrow(batch.pipeline);
    const replicas = this.#o.replicas ?? 0;
    if (replicas > 0 && batch.entries.length > 0) {
      const { keyspace } = this.#o;
      const mailboxes = new Set(
        batch.entries.map((e) => keyspace.shard(keyspace.shardOf(e.address)).mailbox),
      );
      await waitForReplicas(this.#o.redis, mailboxes, replicas, this.#o.replicasTimeoutMs ?? 1000);
    }
    this.stats.enqueued += batch.entries.length;
  }

  /** Queues a message's dead letter (counted and logged with the edge id). */
  deadLetter(pipeline: ChainableCommander, message: DeviceMessage, error: DecodeError): void {
    queueDeviceDeadLetter(
      pipeline,
      this.#o.keyspace,
      { stats: this.stats, log: this.log, link: this.#name },
      {
        edgeId: isValidEdgeId(message.edgeId) ? message.edgeId : undefined,
        source: message.source,
        entryId: message.position,
        payload: message.bytes,
        error,
      },
    );
  }
}
