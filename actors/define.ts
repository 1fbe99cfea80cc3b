/**
 * Defining an actor: a plain object of handlers whose type is also its client contract.
 *
 * ```ts
 * const counter = defineActor({
 *   type: 'counter',
 *   initialState: () => ({ n: 0 }),
 *   handlers: { add: (state, by: number) => ({ n: state.n + by }) },
 * });
 * await client(counter).send('c-1', 'add', 2);
 * ```
 *
 * Handlers run one message at a time per actor, in mailbox order. They treat `state` as
 * immutable and return the next state (or nothing to keep it). Effects — timers, outbox
 * events — go through `ctx` and are committed atomically with the state, only if the handler
 * succeeds. A handler may be async, but its turn holds up the actor's next message.
 */
import type { Logger } from './logger.ts';

export interface ActorContext {
  /** Full address, `<type>/<id>`. */
  readonly address: string;
  /** The id part of the address (`c-1` in `counter/c-1`). */
  readonly id: string;
  /** Id of the mailbox entry being handled. */
  readonly messageId: string;
  /** When the message was enqueued (ms since the epoch). */
  readonly enqueuedAt: number;
  /** The node's clock when the turn started (ms since the epoch). */
  readonly now: number;
  /**
   * The fencing epoch of the shard lease this turn runs under. What the actor sends to the
   * outside (commands to devices) carries it, so a receiver can ignore a stale owner.
   */
  readonly epoch: number;
  readonly log: Logger;
  /** (Re)arms the durable timer `name` to fire in `delayMs`, with `data` for its handler. */
  setTimer(name: string, delayMs: number, data?: unknown): void;
  cancelTimer(name: string): void;
  /**
   * Hands an event to the outbox (delivered to the web backend by the gateway), stamped with its
   * actor's `address` and with `at` = the turn's time unless the event names its own `at` (an
   * alarm's is the edge's clock).
   */
  emit(event: OutboxEvent): void;
  /**
   * Hands a latest-value event (a wall-screen tile, a gauge) to the tag group's live stream
   * without checkpointing the state that produced it: it goes out with this turn's commit, in one
   * live entry with the commit's other published events (bus/live.ts), kept a few seconds and
   * never delivered to the web backend. Unlike `emit`, a replay after a crash hands it out again
   * (the same value, in order), so its readers must keep the latest value, never count it.
   */
  publish(event: OutboxEvent): void;
  /**
   * Sends a message to another actor: written to the outbox with this turn's commit (so only if
   * the handler succeeds, and never again on a replay), then moved into the target's mailbox by
   * the hub nodes' mail relay (mail-relay.ts). At least once: a relay that dies between the
   * enqueue and its acknowledgement sends it again, so the target's handler must be idempotent.
   */
  send(address: string, method: string, payload: unknown): void;
}

/** The outbox event `ctx.send` writes: `to`, `method` and `payload` of the message. */
export const MAIL_EVENT = 'actor.mail';

export interface OutboxEvent {
  readonly type: string;
  readonly [field: string]: unknown;
}

// biome-ignore lint/suspicious/noExplicitAny: handler payload types are inferred per handler
export type Handler<S, P = any> = (
  state: S,
  payload: P,
  ctx: ActorContext,
) => S | undefined | Promise<S | undefined>;

// biome-ignore lint/suspicious/noExplicitAny: see Handler
export type HandlerMap<S> = Record<string, Handler<S, any>>;

export interface ActorDefinition<
  S = unknown,
  H extends HandlerMap<S> = HandlerMap<S>,
  T extends HandlerMap<S> = HandlerMap<S>,
> {
  /** The address type, e.g. `counter` for `counter/<id>`. */
  readonly type: string;
  /** The state of an actor that has never handled a message. */
  initialState(id: string): S;
  /** Message handlers by method name: the actor's public contract. */
  readonly handlers: H;
  /** Durable timer handlers by timer name. */
  readonly timers?: T;
  /** Fields its handlers' log lines carry besides `address` (e.g. `{ deviceId: id }`). */
  logFields?(id: string): Readonly<Record<string, string>>;
}

const TYPE = /^[a-z][a-z0-9-]{0,31}$/;
const NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

export function defineActor<S, H extends HandlerMap<S>, T extends HandlerMap<S> = Record<never, never>>(
  definition: ActorDefinition<S, H, T>,
): ActorDefinition<S, H, T> {
  if (!TYPE.test(definition.type)) {
    throw new RangeError(`Cannot define actor: type must match ${TYPE}, got "${definition.type}"`);
  }
  for (const name of [...Object.keys(definition.handlers), ...Object.keys(definition.timers ?? {})]) {
    if (!NAME.test(name)) {
      throw new RangeError(
        `Cannot define actor "${definition.type}": handler name must match ${NAME}, got "${name}"`,
      );
    }
  }
  return definition;
}

/** The payload type a handler takes. */
export type PayloadOf<F> = F extends (state: never, payload: infer P, ctx: never) => unknown ? P : never;
