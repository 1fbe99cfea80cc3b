/**
 * Sequence tracking of an edge's messages: per-edge sequence numbers, when the edge sends them,
 * count lost and repeated messages (a duplicate, e.g. a QoS 1 redelivery from the device, is
 * applied once). Messages of one edge may arrive slightly out of order (several MQTT link
 * processes split a shared subscription message by message): the last REORDER_WINDOW numbers
 * below the newest are remembered, so a late message is taken once — counted, its alarm applied,
 * its telemetry not laid over newer.
 */
import type { EdgeState } from './state.ts';

/** How far below the newest sequence number a late message is still recognized. */
export const REORDER_WINDOW = 32;

/**
 * Sequence tracking: the new counters, and whether the message is late (older than one already
 * taken); undefined for a duplicate (or one too late to tell, counted as one).
 */
export function track(
  state: EdgeState,
  seq: unknown,
  boot: unknown,
): { seq: EdgeState['seq']; late: boolean } | undefined {
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0) return { seq: state.seq, late: false };
  const bootId = typeof boot === 'string' ? boot : state.seq.boot;
  const s = bootId === state.seq.boot ? state.seq : { ...state.seq, boot: bootId, last: 0, window: 0 };
  const window = s.window ?? 0;
  if (seq > s.last) {
    const shift = seq - s.last;
    const next = s.last === 0 || shift > REORDER_WINDOW ? 0 : ((window << shift) | (1 << (shift - 1))) >>> 0;
    const gaps = s.last > 0 && shift > 1 ? s.gaps + (shift - 1) : s.gaps;
    return {
      seq: {
        boot: s.boot,
        last: seq,
        window: next,
        received: s.received + 1,
        gaps,
        duplicates: s.duplicates,
      },
      late: false,
    };
  }
  const behind = s.last - seq;
  if (behind === 0 || behind > REORDER_WINDOW) return undefined;
  const bit = 1 << (behind - 1);
  if ((window & bit) !== 0) return undefined;
  return {
    seq: {
      boot: s.boot,
      last: s.last,
      window: (window | bit) >>> 0,
      received: s.received + 1,
      gaps: Math.max(0, s.gaps - 1),
      duplicates: s.duplicates,
    },
    late: true,
  };
}

/** The state after a duplicate: only the duplicates counter moves. */
export function duplicate(state: EdgeState): EdgeState {
  return { ...state, seq: { ...state.seq, duplicates: state.seq.duplicates + 1 } };
}
