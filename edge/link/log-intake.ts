/**
 * An edge's log lines at the hub (docs/decisions/038): a decoded `log` batch becomes LogRecords
 * for the log shipper — service = the line's source, edgeId = the edge the topic or Kafka key
 * names (never the payload), each line normalised (`normalizeLine`) — within a per-edge budget,
 * so a hostile or broken edge cannot flood the store: a token bucket of lines a second (with a
 * burst) and bytes a UTC day. Lines past either are dropped and counted per outcome. The budget
 * is per link process (an MQTT shared subscription splits an edge's messages among the link
 * processes, so the fleet-wide ceiling is N× this); the agent keeps the configured one.
 */
import { type LogRecord, normalizeLine } from '../../logs/mod.ts';
import { LineBudget, type LogBatch, lineBytes } from '../protocol/mod.ts';

/** Where records go: the log shipper (logs/ship), or a test's collecting sink. */
export interface LogSink {
  /** Never blocks, never throws. */
  push(record: LogRecord): void;
}

export interface EdgeLogBudget {
  /** Lines an edge may ship a second, on average. */
  readonly linesPerSecond: number;
  /** Lines it may ship at once after a quiet spell (the bucket's size). */
  readonly burstLines: number;
  /** Bytes of lines (before compression) an edge may ship a UTC day. */
  readonly bytesPerDay: number;
}

/** The hub's ceiling: ten times what an agent ships by default, so only a misbehaving edge meets it. */
export const DEFAULT_HUB_LOG_BUDGET: EdgeLogBudget = {
  linesPerSecond: 100,
  burstLines: 3000,
  bytesPerDay: 512 * 1024 * 1024,
};

/** What became of edges' log lines: `devicehub_edge_log_lines_total{outcome}`. */
export const EDGE_LOG_OUTCOMES = [
  'accepted',
  'dropped_rate',
  'dropped_bytes',
  'malformed',
  'no_store',
] as const;
export type EdgeLogOutcome = (typeof EDGE_LOG_OUTCOMES)[number];

/** Edges whose budget is held at most: the oldest goes past it. */
const MAX_EDGES = 200_000;

export class EdgeLogIntake {
  /** Lines per outcome since the link started (`malformed` counts messages, their lines unknown). */
  readonly counts: Record<EdgeLogOutcome, number> = {
    accepted: 0,
    dropped_rate: 0,
    dropped_bytes: 0,
    malformed: 0,
    no_store: 0,
  };
  readonly #budget: EdgeLogBudget;
  readonly #edges = new Map<string, LineBudget>();

  constructor(options: { budget?: Partial<EdgeLogBudget> } = {}) {
    const budget = { ...DEFAULT_HUB_LOG_BUDGET, ...options.budget };
    for (const [key, value] of Object.entries(budget))
      if (!(Number.isFinite(value) && value > 0))
        throw new RangeError(`Cannot take edge logs: budget ${key} must be a positive number, got ${value}`);
    this.#budget = budget;
  }

  /** The records of `batch` within `edgeId`'s budget (the rest counted as dropped). */
  take(edgeId: string, batch: LogBatch): LogRecord[] {
    const budget = this.#refilled(edgeId);
    const records: LogRecord[] = [];
    for (const line of batch.lines) {
      const verdict = budget.take(lineBytes(line.msg), this.#budget.bytesPerDay);
      if (verdict !== 'taken') this.counts[verdict === 'rate' ? 'dropped_rate' : 'dropped_bytes']++;
      else
        records.push({
          time: line.time,
          level: line.level,
          msg: normalizeLine(line.msg),
          service: line.source,
          edgeId,
        });
    }
    this.counts.accepted += records.length;
    return records;
  }

  /** Counts a batch that could not be taken (no log store: `no_store`; undecodable: `malformed`). */
  count(outcome: EdgeLogOutcome, n: number): void {
    this.counts[outcome] += n;
  }

  /** The edge's budget, refilled to now. */
  #refilled(edgeId: string): LineBudget {
    const now = Date.now();
    let budget = this.#edges.get(edgeId);
    if (budget === undefined) {
      // Bounded: ids beyond the fleet (Kafka without --check-fleet) cannot grow the map forever;
      // the oldest entry goes (it comes back with a full bucket, at worst one burst more).
      if (this.#edges.size >= MAX_EDGES) this.#edges.delete(this.#edges.keys().next().value!);
      budget = new LineBudget(this.#budget.burstLines, now);
      this.#edges.set(edgeId, budget);
    }
    budget.refill(now, this.#budget.linesPerSecond, this.#budget.burstLines);
    return budget;
  }
}
