/**
 * The context a handler gets: the message's identity, the turn's clock and the lease epoch, a
 * logger with the actor's fields, and the effects it may ask for (timers, outbox events), which
 * are gathered here and committed with the state that produced them.
 */
import { encodeEntry, type MailboxEntry, timerMember, toError } from '../../bus/mod.ts';
import type { ActorSlot } from '../actor-table.ts';
import { type ActorContext, MAIL_EVENT, type OutboxEvent } from '../define.ts';
import { TerminalError } from '../errors.ts';
import { actorLogFields, type Logger } from '../logger.ts';
import type { TimerChanges } from './commit.ts';

/** What one handler call asked for. */
export interface Effects {
  readonly timers: TimerChanges;
  readonly outbox: string[];
  /** `publish`ed events: written with the turn's commit, without a checkpoint. */
  readonly published: string[];
}

export function contextFor(
  slot: ActorSlot,
  entry: MailboxEntry,
  options: { readonly effects: Effects; readonly log: Logger; readonly now: number; readonly epoch: number },
): ActorContext {
  const { effects, log, now, epoch } = options;
  return {
    address: slot.address,
    id: slot.id,
    messageId: entry.id,
    enqueuedAt: entry.enqueuedAt,
    now,
    epoch,
    get log() {
      return log.child(actorLogFields(slot.address, slot.id, slot.definition));
    },
    setTimer(name, delayMs, data) {
      if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name))
        throw new TerminalError(`setTimer: invalid timer name "${name}"`);
      if (!Number.isFinite(delayMs) || delayMs < 0)
        throw new TerminalError(`setTimer: delayMs must be ≥ 0, got ${delayMs}`);
      effects.timers.set(timerMember(slot.shard, slot.address, name), {
        due: Math.round(now + delayMs),
        data: JSON.stringify({ name, data }),
      });
    },
    cancelTimer(name) {
      effects.timers.set(timerMember(slot.shard, slot.address, name), null);
    },
    emit(event: OutboxEvent) {
      effects.outbox.push(JSON.stringify({ at: now, ...event, address: slot.address }));
    },
    publish(event: OutboxEvent) {
      effects.published.push(JSON.stringify({ at: now, ...event, address: slot.address }));
    },
    send(address, method, payload) {
      let fields: string[];
      try {
        fields = encodeEntry({ address, method, payload }, now);
      } catch (error) {
        throw new TerminalError(`send: ${toError(error).message}`, { cause: error });
      }
      effects.outbox.push(
        `{"type":"${MAIL_EVENT}","to":${JSON.stringify(address)},"method":"${method}","payload":${fields[5]},"address":${JSON.stringify(slot.address)},"at":${now}}`,
      );
    },
  };
}
