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
import type { LogBatch } from '../protocol/mod.ts';

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

interface EdgeBudgetState {
  tokens: number;
  at: number;
  day: number;
  bytes: number;
}

const DAY_MS = 86_400_000;

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
  readonly #edges = new Map<string, EdgeBudgetState>();
  readonly #maxEdges: number;
  readonly #now: () => number;

  constructor(options: { budget?: Partial<EdgeLogBudget>; maxEdges?: number; now?: () => number } = {}) {
    const budget = { ...DEFAULT_HUB_LOG_BUDGET, ...options.budget };
    for (const [key, value] of Object.entries(budget))
      if (!(Number.isFinite(value) && value > 0))
        throw new RangeError(`Cannot take edge logs: budget ${key} must be a positive number, got ${value}`);
    this.#budget = budget;
    this.#maxEdges = options.maxEdges ?? 200_000;
    this.#now = options.now ?? Date.now;
  }

  /** The records of `batch` within `edgeId`'s budget (the rest counted as dropped). */
  take(edgeId: string, batch: LogBatch): LogRecord[] {
    const state = this.#state(edgeId);
    const records: LogRecord[] = [];
    for (const line of batch.lines) {
      const size = typeof line.msg === 'string' ? Buffer.byteLength(line.msg) : line.msg.byteLength;
      if (state.tokens < 1) {
        this.counts.dropped_rate++;
        continue;
      }
      if (state.bytes + size > this.#budget.bytesPerDay) {
        this.counts.dropped_bytes++;
        continue;
      }
      state.tokens--;
      state.bytes += size;
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

  /** The edge's bucket, refilled to now and its day rolled over. */
  #state(edgeId: string): EdgeBudgetState {
    const now = this.#now();
    const day = Math.floor(now / DAY_MS);
    let state = this.#edges.get(edgeId);
    if (state === undefined) {
      // Bounded: ids beyond the fleet (Kafka without --check-fleet) cannot grow the map forever;
      // the oldest entry goes (it comes back with a full bucket, at worst one burst more).
      if (this.#edges.size >= this.#maxEdges) this.#edges.delete(this.#edges.keys().next().value!);
      state = { tokens: this.#budget.burstLines, at: now, day, bytes: 0 };
      this.#edges.set(edgeId, state);
    }
    const elapsed = Math.max(0, now - state.at) / 1000;
    state.tokens = Math.min(this.#budget.burstLines, state.tokens + elapsed * this.#budget.linesPerSecond);
    state.at = now;
    if (day !== state.day) {
      state.day = day;
      state.bytes = 0;
    }
    return state;
  }
}
