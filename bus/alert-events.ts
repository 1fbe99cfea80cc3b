/**
 * Server alerts into the outbox (alert-event.lua): one entry per alert state, whatever number of
 * times Alertmanager sends it. The tag group is chosen by `orderBy` (the alert's fingerprint), so
 * one alert's states (firing, then resolved) share a stream and stay in order.
 */
import type { Bus } from './bus.ts';
import { ScriptReplyError } from './errors.ts';
import { fnv1a32 } from './hash.ts';
import { runScript } from './scripts.ts';

/** How long a seen alert state is remembered after its last repeat (default 7 days). */
export const ALERT_SEEN_SECONDS = 7 * 86_400;

/**
 * Appends `event` unless `key` (a hex hash of the alert's fingerprint, status and start) was
 * appended before; the outbox entry's id, or undefined for a repeat.
 */
export async function appendAlertEvent(
  bus: Bus,
  input: { key: string; orderBy: string; event: Record<string, unknown>; seenSeconds?: number },
): Promise<string | undefined> {
  if (!/^[0-9a-f]{16,64}$/.test(input.key))
    throw new RangeError(`Cannot append an alert event: key must be 16–64 hex digits, got ${input.key}`);
  const group = fnv1a32(input.orderBy) % bus.keyspace.tagGroups;
  const reply = await runScript(
    bus.redis,
    'alert-event',
    [bus.keyspace.outbox(group), bus.keyspace.alertSeen(group, input.key)],
    [JSON.stringify(input.event), input.seenSeconds ?? ALERT_SEEN_SECONDS],
  );
  if (reply === null) return undefined;
  if (typeof reply !== 'string')
    throw new ScriptReplyError('alert-event', `expected an id, got ${JSON.stringify(reply)}`);
  return reply;
}
