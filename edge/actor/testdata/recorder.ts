/**
 * For the edge actor's handler-by-handler tests: an ActorContext at `now` that records what a
 * handler asked for — timers set (their delay) or cancelled (null), outbox events, mail to other
 * actors — instead of doing it.
 */
import { type ActorContext, type OutboxEvent, silentLogger } from '../../../actors/mod.ts';

export interface Recorder {
  readonly ctx: ActorContext;
  /** Each timer's last delay (ms), or null once cancelled. */
  readonly timers: Map<string, number | null>;
  readonly events: OutboxEvent[];
  readonly mail: { to: string; method: string; payload: unknown }[];
}

export function recorder(now: number, o: { id?: string; epoch?: number } = {}): Recorder {
  const { id = 'E-1', epoch = 1 } = o;
  const timers = new Map<string, number | null>();
  const events: OutboxEvent[] = [];
  const mail: Recorder['mail'] = [];
  const ctx: ActorContext = {
    address: `edge/${id}`,
    id,
    messageId: '1-0',
    enqueuedAt: now,
    now,
    epoch,
    log: silentLogger,
    setTimer: (name, delayMs) => void timers.set(name, delayMs),
    cancelTimer: (name) => void timers.set(name, null),
    emit: (event) => void events.push(event),
    publish: (event) => void events.push(event),
    send: (to, method, payload) => void mail.push({ to, method, payload }),
  };
  return { ctx, timers, events, mail };
}
