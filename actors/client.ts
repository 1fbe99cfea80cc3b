/**
 * Sending messages to actors from any process: the gateway, link adapters, tests, other actors.
 * A send resolves once the message is in the actor's mailbox in Redis.
 */
import type { Bus, MailboxMessage } from '../bus/mod.ts';
import type { ActorDefinition, HandlerMap, PayloadOf } from './define.ts';

export interface ActorClient<H> {
  /** Appends one message; resolves with its mailbox entry id. */
  send<M extends keyof H & string>(id: string, method: M, payload: PayloadOf<H[M]>): Promise<string>;
  /** Appends many messages in one round trip; resolves with their entry ids, in order. */
  sendMany(
    messages: readonly { id: string; method: keyof H & string; payload: unknown }[],
  ): Promise<string[]>;
  /** The address of the actor with this id. */
  address(id: string): string;
}

export function createActorClient<S, H extends HandlerMap<S>>(
  bus: Bus,
  definition: ActorDefinition<S, H, HandlerMap<S>>,
): ActorClient<H> {
  const address = (id: string) => `${definition.type}/${id}`;
  return {
    address,
    async send(id, method, payload) {
      const [entryId] = await bus.enqueue([{ address: address(id), method, payload }]);
      return entryId!;
    },
    sendMany(messages) {
      return bus.enqueue(
        messages.map(
          (m): MailboxMessage => ({ address: address(m.id), method: m.method, payload: m.payload }),
        ),
      );
    },
  };
}
