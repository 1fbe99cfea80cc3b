/**
 * The context a handler gets: the message's identity, the turn's clock and the lease epoch, a
 * logger with the actor's fields, and the effects it may ask for (timers, outbox events), which
 * are gathered here and committed with the state that produced them.
 *
 * One context per handler call, on every message of the fleet: a class (its methods shared on
 * the prototype) whose effect lists are only created when a handler asks for an effect, so a
 * message that changes only the state allocates two small objects here, not a Map, three arrays
 * and six closures.
 */
import { encodeEntry, type MailboxEntry, timerMember, toError } from '../../bus/mod.ts';
import type { ActorSlot } from '../actor-table.ts';
import { type ActorContext, MAIL_EVENT, type OutboxEvent } from '../define.ts';
import { TerminalError } from '../errors.ts';
import { actorLogFields, type Logger } from '../logger.ts';
import type { TimerChanges } from './commit.ts';

const TIMER_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** What one handler call asked for; each list is created by the first effect of its kind. */
export interface Effects {
  /** Timers set (or cancelled, as `null`), by timer member. */
  timers: TimerChanges | undefined;
  /** `emit`ted events and `send`s: committed with a checkpoint of the state. */
  outbox: string[] | undefined;
  /** `publish`ed events: written with the turn's commit, without a checkpoint. */
  published: string[] | undefined;
}

/** Whether a call's effects need a checkpoint (a timer change, an `emit` or a `send`). */
export function needsCheckpoint(effects: Effects): boolean {
  return (effects.timers?.size ?? 0) > 0 || (effects.outbox?.length ?? 0) > 0;
}

/**
 * A handler call's context. Its state lives in public fields, never in `#private` ones: a handler
 * may wrap the context with `Object.create(ctx, …)` (vision.ts does), and the methods then run
 * with the wrapper as `this`; they reach the one `effects` object through the prototype.
 */
export class HandlerContext implements ActorContext {
  readonly address: string;
  readonly id: string;
  readonly messageId: string;
  readonly enqueuedAt: number;
  readonly now: number;
  readonly epoch: number;
  readonly effects: Effects = { timers: undefined, outbox: undefined, published: undefined };
  readonly slot: ActorSlot;
  readonly baseLog: Logger;

  constructor(
    slot: ActorSlot,
    entry: MailboxEntry,
    o: { readonly log: Logger; readonly now: number; readonly epoch: number },
  ) {
    this.address = slot.address;
    this.id = slot.id;
    this.messageId = entry.id;
    this.enqueuedAt = entry.enqueuedAt;
    this.now = o.now;
    this.epoch = o.epoch;
    this.slot = slot;
    this.baseLog = o.log;
  }

  get log(): Logger {
    const slot = this.slot;
    return this.baseLog.child(actorLogFields(slot.address, slot.id, slot.definition));
  }

  setTimer(name: string, delayMs: number, data?: unknown): void {
    if (!TIMER_NAME.test(name)) throw new TerminalError(`setTimer: invalid timer name "${name}"`);
    if (!Number.isFinite(delayMs) || delayMs < 0)
      throw new TerminalError(`setTimer: delayMs must be ≥ 0, got ${delayMs}`);
    timersOf(this.effects).set(timerMember(this.slot.shard, this.address, name), {
      due: Math.round(this.now + delayMs),
      // No data: nothing for the timer data hash, the member names the timer (fire-timers.lua).
      data: data === undefined ? '' : JSON.stringify({ name, data }),
    });
  }

  cancelTimer(name: string): void {
    timersOf(this.effects).set(timerMember(this.slot.shard, this.address, name), null);
  }

  emit(event: OutboxEvent): void {
    outboxOf(this.effects).push(JSON.stringify({ at: this.now, ...event, address: this.address }));
  }

  publish(event: OutboxEvent): void {
    const effects = this.effects;
    effects.published ??= [];
    effects.published.push(JSON.stringify({ at: this.now, ...event, address: this.address }));
  }

  send(address: string, method: string, payload: unknown): void {
    let fields: string[];
    try {
      fields = encodeEntry({ address, method, payload }, this.now);
    } catch (error) {
      throw new TerminalError(`send: ${toError(error).message}`, { cause: error });
    }
    outboxOf(this.effects).push(
      `{"type":"${MAIL_EVENT}","to":${JSON.stringify(address)},"method":"${method}","payload":${fields[5]},"address":${JSON.stringify(this.address)},"at":${this.now}}`,
    );
  }
}

function timersOf(effects: Effects): TimerChanges {
  effects.timers ??= new Map();
  return effects.timers;
}

function outboxOf(effects: Effects): string[] {
  effects.outbox ??= [];
  return effects.outbox;
}
