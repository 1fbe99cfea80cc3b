/**
 * What the gateway reads from the outbox: the events edge actors hand out (alarms, online and
 * offline, tunnel states, command results), each with a cluster-wide id made of its tag group
 * and stream entry id — the web backend's idempotency key, the alarm table's event id.
 */

export interface OutboxItem {
  /** `g<group>-<entryId>`: unique, stable across redeliveries. */
  readonly id: string;
  /** When the event was written (the entry id's time, ms). */
  readonly emittedAt: number;
  readonly event: OutboxEventJson;
}

export interface OutboxEventJson {
  readonly type: string;
  readonly edgeId?: string;
  readonly [field: string]: unknown;
}

/** The events that leave DeviceHub (for the web backend and the live feed); `command` is the relays'. */
export const FLEET_EVENT_TYPES = [
  'alarm.start',
  'alarm.end',
  'edge.online',
  'edge.offline',
  'tunnel.state',
  'command.result',
] as const;
export type FleetEventType = (typeof FLEET_EVENT_TYPES)[number];

export const isFleetEvent = (event: OutboxEventJson): boolean =>
  (FLEET_EVENT_TYPES as readonly string[]).includes(event.type);

/** Outbox stream entries of tag group `group` as items; unreadable ones are returned apart. */
export function toItems(
  group: number,
  entries: readonly [string, string[]][],
): { items: OutboxItem[]; unreadable: { id: string; raw: string }[] } {
  const items: OutboxItem[] = [];
  const unreadable: { id: string; raw: string }[] = [];
  for (const [entryId, fields] of entries) {
    const id = `g${group}-${entryId}`;
    const raw = fields[1] ?? '';
    try {
      const event = JSON.parse(raw) as OutboxEventJson;
      if (typeof event?.type !== 'string') throw new TypeError('no type');
      items.push({ id, emittedAt: Number(entryId.split('-')[0]), event });
    } catch {
      unreadable.push({ id, raw });
    }
  }
  return { items, unreadable };
}
