/**
 * Telling a rollout actor who its members are: `create` with the spec and the first members,
 * then `join` messages for the rest, all in one round trip (one mailbox: they arrive in order),
 * each message well under the mailbox's 64 KiB; then the members recorded, so the membership job
 * knows who was sent. At least once: a gateway that dies between the send and the record sends
 * those edges again on the job's next pass, and the actor takes a member it has once.
 */
import type { Bus } from '../../bus/mod.ts';
import type { CreateRollout, JoinRollout, RolloutMember } from '../../edge/rollout/mod.ts';
import type { Db } from '../db/database.ts';
import { rolloutMembers } from '../db/schema.ts';

/** Members per message (~110 bytes of JSON each). */
export const MEMBERS_PER_MESSAGE = 300;

export const rolloutAddress = (id: string) => `rollout/${id}`;

export async function sendMembers(
  deps: { readonly db: Db; readonly bus: Bus },
  rolloutId: string,
  members: readonly RolloutMember[],
  create?: Omit<CreateRollout, 'members'>,
): Promise<void> {
  const address = rolloutAddress(rolloutId);
  const chunks: RolloutMember[][] = [];
  for (let i = 0; i < members.length; i += MEMBERS_PER_MESSAGE)
    chunks.push(members.slice(i, i + MEMBERS_PER_MESSAGE));
  const messages = chunks.map((chunk) => ({
    address,
    method: 'join',
    payload: { members: chunk } satisfies JoinRollout as unknown,
  }));
  if (create !== undefined) {
    const first = messages.shift()?.payload as JoinRollout | undefined;
    messages.unshift({
      address,
      method: 'create',
      payload: { ...create, members: first?.members ?? [] } satisfies CreateRollout,
    });
  }
  if (messages.length > 0) await deps.bus.enqueue(messages);
  for (let i = 0; i < members.length; i += 1000)
    await deps.db
      .insert(rolloutMembers)
      .values(members.slice(i, i + 1000).map((m) => ({ rolloutId, edgeId: m.edgeId, wave: m.wave ?? null })))
      .onConflictDoNothing();
}
