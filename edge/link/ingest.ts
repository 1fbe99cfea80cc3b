/**
 * What every hub-side link to the edges is (MQTT, Kafka), and the step they share: a device
 * message in, its mailbox entries (or its dead letter) queued on a Redis pipeline. A link sends
 * the pipeline and only then acknowledges the message to its broker (MQTT PUBACK, Kafka offset
 * commit), so what the broker hands over is either in Redis or handed over again.
 */
import type { ChainableCommander } from 'ioredis';
import { type Logger, silentLogger } from '../../actors/mod.ts';
import {
  type Bus,
  type DeadLetterBudget,
  type EncodedMessage,
  execOrThrow,
  toError,
  waitForReplicas,
} from '../../bus/mod.ts';
import type { LogRecord } from '../../logs/mod.ts';
import type { EdgeTransport } from '../protocol/mod.ts';
import {
  DecodeError,
  decodeLogBatch,
  describe,
  type HubMessage,
  isValidEdgeId,
  MAX_DEVICE_MESSAGE_BYTES,
  packTelemetry,
  type TelemetryPayload,
} from '../protocol/mod.ts';
import { DeadLetterLog, type LinkStats, queueDeviceDeadLetter } from './dead-letter.ts';
import { type EdgeLogBudget, EdgeLogIntake, type EdgeLogOutcome, type LogSink } from './log-intake.ts';
import type { EdgeRegistry } from './registry.ts';

export interface EdgeLink extends AsyncDisposable {
  readonly transport: EdgeTransport;
  readonly stats: LinkStats;
  /** Edges' log lines per outcome (accepted, dropped_rate, dropped_bytes, malformed, no_store). */
  readonly logLines: Readonly<Record<EdgeLogOutcome, number>>;
  /** Connects and starts taking messages; resolves once it is. */
  start(): Promise<this>;
  /** Stops taking messages; what was taken is in Redis and acknowledged. */
  stop(): Promise<void>;
}

/** The options every link takes. */
export interface IngestOptions {
  /** The bus the messages are enqueued on (and the replicas waited for over its connection). */
  readonly bus: Bus;
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
  /**
   * Bytes of dead letters one edge may store per window (default 16 KiB a minute); beyond it its
   * dead letters are counted, not stored. Enforced in Redis, across every link process.
   */
  readonly deadLetterBudget?: DeadLetterBudget;
  /**
   * Where edges' `log` batches go (the log shipper, logs/ship): they never reach a mailbox. Without
   * one they are acknowledged and counted as `no_store` (DEVICEHUB_LOG_STORE unset).
   */
  readonly logs?: LogSink;
  /** The hub's per-edge ceiling on log lines (default DEFAULT_HUB_LOG_BUDGET). */
  readonly logBudget?: Partial<EdgeLogBudget>;
  readonly logger?: Logger;
  /** Seams for the harness (tests of crash recovery); production code sets none. */
  readonly hooks?: IngestHooks;
}

/** Called by a link at fixed points of its receive path; the harness injects them (cli/link-command.ts). */
export interface IngestHooks {
  /** After messages were received and before they are enqueued (a crash test exits here). */
  beforeEnqueue?(): void;
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

/** Device messages on their way to Redis together: their encoded entries, and the dead letters' pipeline. */
export interface IngestBatch {
  readonly pipeline: ChainableCommander;
  readonly entries: EncodedMessage[];
  /** Edges' log lines, pushed to the log sink once the batch is in Redis (with the messages' acknowledgement). */
  readonly records: LogRecord[];
}

export class Ingest {
  readonly stats: LinkStats = { received: 0, enqueued: 0, deadLettered: {} };
  readonly log: Logger;
  readonly #transport: EdgeTransport;
  readonly #o: IngestOptions;
  readonly #bus: Bus;
  readonly #name: string;
  readonly #deadLetterLog: DeadLetterLog;
  /** Edges' log lines: the budget and the counts per outcome. */
  readonly logLines: EdgeLogIntake;
  /** The counts already added to Redis (`edgeLogLines`), and when. */
  #logCountsFlushed: Record<string, number> = {};
  #logCountsAt = 0;
  #logCountsFlush: Promise<void> = Promise.resolve();

  constructor(transport: EdgeTransport, name: string, options: IngestOptions) {
    this.#transport = transport;
    this.#name = name;
    this.#o = options;
    this.#bus = options.bus;
    this.log = (options.logger ?? silentLogger).child({ link: name });
    this.#deadLetterLog = new DeadLetterLog(this.log);
    this.logLines = new EdgeLogIntake(options.logBudget === undefined ? {} : { budget: options.logBudget });
  }

  batch(): IngestBatch {
    return { pipeline: this.#bus.pipeline(), entries: [], records: [] };
  }

  /** The checks every message passes first: its size and its edge (and the fleet, when the link checks). */
  #check(message: DeviceMessage): asserts message is DeviceMessage & { edgeId: string } {
    if (message.bytes.byteLength > MAX_DEVICE_MESSAGE_BYTES)
      throw new DecodeError(
        'TOO_LARGE',
        `message of ${message.bytes.byteLength} bytes, limit ${MAX_DEVICE_MESSAGE_BYTES}`,
      );
    if (!isValidEdgeId(message.edgeId))
      throw new DecodeError('INVALID_FIELD', `not an edge id: ${describe(message.edgeId ?? null)}`);
    if (this.#o.registry !== undefined && !this.#o.registry.has(message.edgeId))
      throw new DecodeError('UNKNOWN_EDGE', `edge ${message.edgeId} is not in the fleet`);
  }

  /**
   * An edge's `log` batch: checked as every message, decoded, its lines within the edge's budget
   * queued on `batch` for the log sink (edgeId = the transport's, never the payload's) — or its
   * dead letter when it is malformed. Never throws. Returns the lines queued.
   */
  queueLog(batch: IngestBatch, message: DeviceMessage): number {
    this.stats.received++;
    let records: LogRecord[];
    try {
      this.#check(message);
      const decoded = decodeLogBatch(message.bytes);
      if (this.#o.logs === undefined) {
        this.logLines.count('no_store', decoded.lines.length);
        return 0;
      }
      records = this.logLines.take(message.edgeId, decoded);
    } catch (error) {
      this.logLines.count('malformed', 1);
      this.deadLetter(batch.pipeline, message, error);
      return 0;
    }
    batch.records.push(...records);
    return records.length;
  }

  /**
   * The one boundary a device message crosses: checks its size and edge, decodes it with
   * `decode` and encodes its mailbox entries onto `batch` — or, when any of that fails, queues
   * its dead letter instead (a `DecodeError` with its code; anything else is a bug, dead-lettered
   * as `INTERNAL` and logged at error level). Never throws: one message cannot fail the batch
   * or its neighbours. Returns the entries added.
   */
  queue(
    batch: IngestBatch,
    message: DeviceMessage,
    decode: (bytes: Uint8Array, edgeId: string) => HubMessage[],
  ): number {
    this.stats.received++;
    let encoded: EncodedMessage[];
    try {
      this.#check(message);
      const { edgeId } = message;
      const messages = decode(message.bytes, edgeId);
      const address = `edge/${edgeId}`;
      const now = Date.now();
      const deviceTime = this.#o.entryTime === 'device';
      encoded = messages.map((m) => {
        // The payload was built for this delivery: say which transport it came over (the edge
        // actor answers commands over the same one).
        (m.payload as { via?: EdgeTransport }).via = this.#transport;
        const ts = (m.payload as { ts?: unknown }).ts;
        const at = deviceTime && typeof ts === 'number' ? ts : now;
        // A full status goes packed: a third of the bytes, half the hub node's parsing (decision 068).
        const payload =
          m.method === 'telemetry' ? (packTelemetry(m.payload as TelemetryPayload) ?? m.payload) : m.payload;
        return this.#bus.encodeMessage({ address, method: m.method, payload }, at);
      });
    } catch (error) {
      this.deadLetter(batch.pipeline, message, error);
      return 0;
    }
    batch.entries.push(...encoded);
    return encoded.length;
  }

  /**
   * Sends the batch to Redis (its dead letters, then one enqueue script call per hash-tag group);
   * resolves once Redis has it. Rejects only when Redis does (the transport delivers again).
   */
  async send(batch: IngestBatch): Promise<void> {
    this.#bus.queueEnqueueMany(batch.pipeline, batch.entries);
    await execOrThrow(batch.pipeline);
    const replicas = this.#o.replicas ?? 0;
    if (replicas > 0 && batch.entries.length > 0) {
      const mailboxes = new Set(batch.entries.map((e) => e.shard.mailbox));
      await waitForReplicas(this.#bus.redis, {
        keys: mailboxes,
        replicas,
        timeoutMs: this.#o.replicasTimeoutMs ?? 1000,
      });
    }
    this.stats.enqueued += batch.entries.length;
    const sink = this.#o.logs;
    if (sink !== undefined) for (const record of batch.records) sink.push(record);
    if (Date.now() - this.#logCountsAt >= 1000) void this.flushLogCounts();
  }

  /**
   * Adds the edge log line counts since the last flush to Redis (`edgeLogLines`, summed over every
   * link process; the gateway's devicehub_edge_log_lines_total). At most once a second from
   * `send`, and when the link stops. Never throws: a failed flush is tried again with the next.
   */
  flushLogCounts(): Promise<void> {
    this.#logCountsAt = Date.now();
    // One at a time: each adds what the one before did not.
    this.#logCountsFlush = this.#logCountsFlush.then(() => this.#flushLogCounts());
    return this.#logCountsFlush;
  }

  async #flushLogCounts(): Promise<void> {
    const counts = { ...this.logLines.counts };
    const pipeline = this.#bus.redis.pipeline();
    let changed = false;
    for (const [outcome, n] of Object.entries(counts)) {
      const delta = n - (this.#logCountsFlushed[outcome] ?? 0);
      if (delta > 0) {
        pipeline.hincrby(this.#bus.keyspace.edgeLogLines, outcome, delta);
        changed = true;
      }
    }
    if (!changed) return;
    try {
      await execOrThrow(pipeline);
      this.#logCountsFlushed = counts;
    } catch (error) {
      this.log.warn({ err: toError(error) }, 'could not count edge log lines in Redis; trying again later');
    }
  }

  /**
   * Queues a message's dead letter (counted per code, logged with the edge id, stored within its
   * edge's budget). `error` that is not a `DecodeError` is a bug: it becomes `INTERNAL`. Never throws.
   */
  deadLetter(pipeline: ChainableCommander, message: DeviceMessage, error: unknown): void {
    const cause = toError(error);
    const decodeError =
      error instanceof DecodeError
        ? error
        : new DecodeError('INTERNAL', `the link failed on this message: ${cause.message.slice(0, 300)}`);
    const named = isValidEdgeId(message.edgeId) ? message.edgeId : undefined;
    // Budgets and counts per edge are for the fleet's edges: ids an edge could make up share `-`.
    const inFleet = named !== undefined && (this.#o.registry === undefined || this.#o.registry.has(named));
    queueDeviceDeadLetter(
      pipeline,
      {
        bus: this.#bus,
        stats: this.stats,
        log: this.#deadLetterLog,
        link: this.#name,
        ...(this.#o.deadLetterBudget === undefined ? {} : { budget: this.#o.deadLetterBudget }),
      },
      {
        edgeId: named,
        budgetEdge: inFleet ? named : '-',
        source: message.source,
        entryId: message.position,
        payload: message.bytes,
        error: decodeError,
        ...(error instanceof DecodeError ? {} : { cause }),
      },
    );
  }
}
