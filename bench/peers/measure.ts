/**
 * The one handler all three systems of the peers bench run: the edge actor's own `telemetry`
 * handler, wrapped by a per-edge delivery record kept in the same state object, so it is written
 * in the same atomic write as the edge's state whatever system writes it. The record says which
 * sequence numbers were applied (as runs), the highest, how many arrived again (applied twice)
 * and how many arrived after a higher one (out of order).
 */
import type { ActorContext } from '../../actors/mod.ts';
import { createEdgeActor, type EdgeState } from '../../edge/actor/mod.ts';

/** Per edge: what was applied, as the handler saw it. */
export interface Delivery {
  /** Highest sequence number applied. */
  readonly max: number;
  /** Applied sequence numbers as sorted, disjoint inclusive runs [from, to, from, to, …]. */
  readonly runs: readonly number[];
  /** Deliveries of a number already applied. */
  readonly dup: number;
  /** Deliveries of a new number below the highest applied. */
  readonly ooo: number;
}

export interface PeerState {
  readonly edge: EdgeState;
  readonly d: Delivery;
}

/** What the producers send for every message: the edge actor's telemetry payload. */
export interface PeerPayload {
  readonly kind: 'status' | 'vision' | 'heartbeat';
  readonly seq: number;
  readonly boot: string;
  /** The producer's clock when it sent the message (ms): latency runs from here. */
  readonly ts: number;
  readonly data: Record<string, unknown>;
}

const edge = createEdgeActor();
const telemetry = edge.handlers.telemetry;

export function initialPeerState(id: string): PeerState {
  return { edge: edge.initialState(id), d: { max: 0, runs: [], dup: 0, ooo: 0 } };
}

/** `runs` with `seq` added, or undefined when it is already there. */
export function addRun(runs: readonly number[], seq: number): number[] | undefined {
  let i = 0;
  while (i < runs.length && runs[i + 1]! < seq - 1) i += 2;
  // runs[i..i+1] is the first run that ends at or after seq-1 (or none).
  if (i < runs.length && runs[i]! <= seq && seq <= runs[i + 1]!) return undefined;
  const next = runs.slice();
  if (i < runs.length && runs[i + 1] === seq - 1) {
    next[i + 1] = seq;
    // Joins the following run when it starts right after.
    if (next[i + 2] === seq + 1) next.splice(i + 1, 2);
  } else if (i < runs.length && runs[i] === seq + 1) next[i] = seq;
  else next.splice(i, 0, seq, seq);
  return next;
}

/** How many numbers the runs hold. */
export function runsCount(runs: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < runs.length; i += 2) n += runs[i + 1]! - runs[i]! + 1;
  return n;
}

/** Whether `seq` is one of the runs' numbers. */
export function runsHas(runs: readonly number[], seq: number): boolean {
  for (let i = 0; i < runs.length; i += 2) if (runs[i]! <= seq && seq <= runs[i + 1]!) return true;
  return false;
}

/** The delivery record after `seq` arrived. */
export function deliver(d: Delivery, seq: number): Delivery {
  const runs = addRun(d.runs, seq);
  if (runs === undefined) return { ...d, dup: d.dup + 1 };
  return { max: Math.max(d.max, seq), runs, dup: d.dup, ooo: seq < d.max ? d.ooo + 1 : d.ooo };
}

/**
 * The wrapped handler: the delivery record, then the edge actor's telemetry handler (a repeat is
 * handed on too, as a system without its own dedupe would; the edge actor's sequence window then
 * keeps it off the shadow).
 */
export function applyPeer(state: PeerState, payload: PeerPayload, ctx: ActorContext): PeerState {
  const d = deliver(state.d, payload.seq);
  return { edge: telemetry(state.edge, payload, ctx) ?? state.edge, d };
}
