/**
 * Simulated edges' log lines (the `log` kind, edge/protocol/logs.ts), as the agent ships them:
 * each edge writes `linesPerSecond` lines (times `factor`: 10 for a burst) and sends what it wrote
 * as one compressed batch every `batchSeconds`, on its own MQTT connection at QoS 1 (edge i's
 * batches at i/edges of the period, spread, not all at once). Every line carries `runId` as a word
 * (a benchmark counts the lines it sent in the store by it); one batch in `markerEvery` fleet-wide
 * starts with a marker line, `mk<runId> <runId> <edge> marker <n>`, stamped when it is sent (ship → queryable).
 * Sent counts what the broker acknowledged; lines of a batch the broker refused count as errors.
 */
import { encodeLogBatch, type LogLine, UPLINK_QOS, uplinkTopic } from '../protocol/mod.ts';
import type { SimEdge } from './sim-edge.ts';

export interface SimLogsOptions {
  /** Lines each edge writes a second at factor 1 (default 1). */
  readonly linesPerSecond?: number;
  /** Seconds between an edge's batches (default 5). */
  readonly batchSeconds?: number;
  /** A word (letters and digits) every line carries. */
  readonly runId: string;
  /** One batch in this many (fleet-wide) starts with a marker line (default: about 2 a second). */
  readonly markerEvery?: number;
  /** The rate's multiplier at start (default 0: quiet until `setFactor`). */
  readonly factor?: number;
}

export interface SimLogStats {
  /** Log lines the broker acknowledged. */
  logLines: number;
  logLinesInFlight: number;
  logErrors: number;
  logMarkers: number;
  logFactor: number;
}

const TICK_MS = 50;
const LINES_PER_MESSAGE = 100;
const SOURCES = ['elenet', 'litefcccore', 'agent'] as const;
const LEVELS = ['info', 'info', 'info', 'warn', 'debug', 'error'] as const;

/** Ships the fleet's log lines from `start` until `stop`. */
export class SimLogs {
  readonly stats: SimLogStats = {
    logLines: 0,
    logLinesInFlight: 0,
    logErrors: 0,
    logMarkers: 0,
    logFactor: 0,
  };
  readonly #edges: readonly SimEdge[];
  readonly #rate: number;
  readonly #periodMs: number;
  readonly #runId: string;
  readonly #markerEvery: number;
  /** Lines each edge has written but not sent yet (fractions carried over). */
  readonly #owed: Float64Array;
  readonly #lineNo: Uint32Array;
  #timer: ReturnType<typeof setInterval> | undefined;
  #start = 0;
  #cursor = 0;
  #batches = 0;
  #lastTick = 0;

  constructor(edges: readonly SimEdge[], o: SimLogsOptions) {
    if (!/^[A-Za-z0-9]{1,40}$/.test(o.runId))
      throw new RangeError(`SimLogs: runId must be 1–40 letters or digits, got ${JSON.stringify(o.runId)}`);
    this.#edges = edges;
    this.#rate = o.linesPerSecond ?? 1;
    this.#periodMs = (o.batchSeconds ?? 5) * 1000;
    if (!(this.#rate > 0) || !(this.#periodMs >= 100))
      throw new RangeError('SimLogs: linesPerSecond must be > 0 and batchSeconds ≥ 0.1');
    this.#runId = o.runId;
    this.#markerEvery = o.markerEvery ?? Math.max(1, Math.round(edges.length / (this.#periodMs / 1000) / 2));
    this.stats.logFactor = o.factor ?? 0;
    this.#owed = new Float64Array(edges.length);
    this.#lineNo = new Uint32Array(edges.length);
  }

  /** The rate's multiplier from now on (0: quiet, 1: normal, 10: a burst). */
  setFactor(factor: number): void {
    if (!(factor >= 0)) throw new RangeError(`SimLogs: factor must be ≥ 0, got ${factor}`);
    this.stats.logFactor = factor;
  }

  start(): this {
    this.#start = Date.now();
    this.#lastTick = this.#start;
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    return this;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Every edge earns its lines of the elapsed tick; the edges whose batch is due send. */
  #tick(): void {
    const now = Date.now();
    const earned = (this.#rate * this.stats.logFactor * (now - this.#lastTick)) / 1000;
    this.#lastTick = now;
    if (earned > 0) for (let i = 0; i < this.#owed.length; i++) this.#owed[i]! += earned;
    const n = this.#edges.length;
    for (;;) {
      const round = Math.floor(this.#cursor / n);
      const i = this.#cursor % n;
      if (this.#start + round * this.#periodMs + (i * this.#periodMs) / n > now) break;
      this.#cursor++;
      this.#send(this.#edges[i]!, now);
    }
  }

  #send(edge: SimEdge, now: number): void {
    const count = Math.floor(this.#owed[edge.index]!);
    if (count < 1 || edge.client === undefined) return;
    this.#owed[edge.index]! -= count;
    const lines: LogLine[] = [];
    if (this.#batches++ % this.#markerEvery === 0) {
      this.stats.logMarkers++;
      lines.push({
        time: now,
        level: 'info',
        source: 'agent',
        msg: `mk${this.#runId} ${this.#runId} ${edge.id} marker ${this.stats.logMarkers}`,
      });
    }
    // The lines were written over the batch period; the last one just now.
    const span = Math.min(this.#periodMs, 60_000);
    for (let k = lines.length; k < count; k++) {
      const no = ++this.#lineNo[edge.index]!;
      lines.push({
        time: now - Math.round(span * (1 - (k + 1) / count)),
        level: LEVELS[no % LEVELS.length]!,
        source: SOURCES[no % SOURCES.length]!,
        msg: `${this.#runId} ${edge.id} line ${no}: car at floor ${(no % 24) + 1}, door cycle ${no % 7} ok, speed 1.${no % 10} m/s`,
      });
    }
    // A few hundred short lines fit one message; a longer backlog (after a quiet link) goes in several.
    for (let from = 0; from < lines.length; from += LINES_PER_MESSAGE) {
      const group = lines.slice(from, from + LINES_PER_MESSAGE);
      const payload = encodeLogBatch(group, { time: now });
      const size = group.length;
      this.stats.logLinesInFlight += size;
      edge.client.publish(
        uplinkTopic(edge.id, 'log'),
        Buffer.from(payload),
        { qos: UPLINK_QOS.log },
        (error) => {
          this.stats.logLinesInFlight -= size;
          if (error) this.stats.logErrors += size;
          else this.stats.logLines += size;
        },
      );
    }
  }
}
