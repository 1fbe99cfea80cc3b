/**
 * Online and offline: every message marks its edge seen (online, last seen, the transport it came
 * over); an edge that sends nothing for EDGE_OFFLINE_AFTER_MS (three missed 10 s heartbeats) goes
 * offline, by a durable timer, even if the node that armed it has died since. A compact agent,
 * quiet by design, says in its birth how long it may be silent (telemetry.ts) and gets 2.5 times
 * that. Both changes go to the outbox.
 */
import type { ActorContext } from '../../actors/mod.ts';
import type { EdgeTransport } from '../protocol/mod.ts';
import type { EdgeState } from './state.ts';

export const EDGE_OFFLINE_AFTER_MS = 30_000;

/** What a message changes when it marks its edge seen. */
export interface SeenMessage {
  /** The edge actor's default silence window (ms), for an edge whose birth named none. */
  readonly defaultOfflineAfterMs: number;
  /** The sequence tracking after this message. */
  readonly seq: EdgeState['seq'];
  /** The shadow after this message (default: unchanged). */
  readonly shadow?: EdgeState['shadow'];
  /** When each shadow kind last changed (default: unchanged). */
  readonly updatedAt?: EdgeState['updatedAt'];
  /** The transport the message came over. */
  readonly via?: EdgeTransport | undefined;
}

/**
 * Marks the edge seen: online, last seen, the offline timer pushed forward when needed, and the
 * sequence tracking. One new state object per message (this runs for every message of the fleet).
 */
export function seen(state: EdgeState, ctx: ActorContext, message: SeenMessage): EdgeState {
  const { defaultOfflineAfterMs, seq, shadow = state.shadow, updatedAt = state.updatedAt, via } = message;
  const offlineAfterMs = state.offlineAfterMs ?? defaultOfflineAfterMs;
  const due = ctx.now + offlineAfterMs;
  let offlineDue = state.offlineDue;
  // Re-arm only when the timer would fire more than half its window too early: one timer write
  // per ~15 s per edge instead of one per message (the timer re-checks lastSeen when it fires).
  if (due - offlineDue > offlineAfterMs * 0.5) {
    ctx.setTimer('offline', offlineAfterMs);
    offlineDue = due;
  }
  if (!state.online) ctx.emit({ type: 'edge.online', edgeId: ctx.id });
  // A copy of the state with the fields a message moves: every other field as it was. Listing
  // the optional ones each as a conditional spread cost ~590 B a message (a temporary object per
  // field and a bigger result); a copy is one object the size of the state.
  const next: { -readonly [K in keyof EdgeState]: EdgeState[K] } = {
    ...state,
    online: true,
    firstSeen: state.firstSeen ?? ctx.now,
    lastSeen: ctx.now,
    shadow,
    updatedAt,
    seq,
    offlineDue,
  };
  if (via === 'mqtt' || via === 'kafka') next.transport = via;
  return next;
}

/**
 * The `offline` timer's handler: offline when the edge has been silent for its whole window,
 * else the timer is armed again for the rest of it.
 */
export function offlineTimer(defaultOfflineAfterMs: number) {
  return (state: EdgeState, _data: unknown, ctx: ActorContext): EdgeState | undefined => {
    if (!state.online || state.lastSeen === null) return undefined;
    const silentFor = ctx.now - state.lastSeen;
    const window = state.offlineAfterMs ?? defaultOfflineAfterMs;
    if (silentFor < window) {
      // Seen since the timer was armed: wait for the rest of the window.
      ctx.setTimer('offline', window - silentFor);
      return { ...state, offlineDue: ctx.now + window - silentFor };
    }
    ctx.emit({ type: 'edge.offline', edgeId: ctx.id, lastSeen: state.lastSeen });
    return { ...state, online: false };
  };
}
