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

/**
 * The events that leave DeviceHub (for the web backend and the live feed); `command` is the
 * relays'. Updates: `update.state` (an edge's report on a rollout's target), `update.assigned` (a
 * configuration rollout admitted the edge: the gateway serves it that version), `rollout.state` (a
 * rollout's status with its summary) and `rollout.wave` (a wave started, progressed, holding,
 * passed) — every `rollout.*` type a rollout actor emits goes out, new ones included. Alarm clips:
 * `clip.ready` (stored: bytes, SHA-256, duration) and `clip.failed` (with the code and reason).
 * Second looks: `vision.verdict` (the verdict, the model's detections, whether the alarm went out).
 * Server monitoring: `server.alert` (an Alertmanager alert firing or resolved; gateway/monitoring).
 */
export const FLEET_EVENT_TYPES = [
  'alarm.start',
  'alarm.end',
  'edge.online',
  'edge.offline',
  'tunnel.state',
  'command.result',
  'update.state',
  'update.assigned',
  'rollout.state',
  'rollout.wave',
  'clip.ready',
  'clip.failed',
  'vision.verdict',
  'server.alert',
] as const;
export type FleetEventType = (typeof FLEET_EVENT_TYPES)[number];

export const isFleetEvent = (event: OutboxEventJson): boolean =>
  (FLEET_EVENT_TYPES as readonly string[]).includes(event.type) || event.type.startsWith('rollout.');

/**
 * What orders an event for the web backend: its edge, or for a rollout's own events the rollout
 * (`rollout/<id>`), so each rollout's events arrive in order like each edge's.
 */
export function orderingKey(event: OutboxEventJson): string | undefined {
  if (typeof event.edgeId === 'string') return event.edgeId;
  if (event.type.startsWith('rollout.') && typeof event.rollout === 'string')
    return `rollout/${event.rollout}`;
  // A server alert's states (firing, resolved) in order, per alert.
  if (event.type === 'server.alert' && typeof event.fingerprint === 'string')
    return `alert/${event.fingerprint}`;
  return undefined;
}

/**
 * An outbox event's type read from the start of its JSON without parsing it, or `undefined` when
 * the text does not start the way the hub writes events: `{"at":<number>,"type":"…"` (emit,
 * publish) or `{"type":"…"` (send). For skipping, unparsed, the events a reader never wants.
 */
export function peekType(raw: string): string | undefined {
  let i: number;
  if (raw.startsWith('{"type":"')) i = 9;
  else if (raw.startsWith('{"at":')) {
    const comma = raw.indexOf(',', 6);
    if (comma < 0 || !/^-?[0-9][0-9.eE+-]*$/.test(raw.slice(6, comma))) return undefined;
    if (!raw.startsWith(',"type":"', comma)) return undefined;
    i = comma + 9;
  } else return undefined;
  const end = raw.indexOf('"', i);
  if (end < 0) return undefined;
  const type = raw.slice(i, end);
  return type.includes('\\') ? undefined : type;
}

/** What `toItems` made of a batch of outbox entries. */
export interface ReadItems {
  readonly items: OutboxItem[];
  readonly unreadable: { id: string; raw: string }[];
  /** Entries of a type the reader skips (left unparsed). */
  readonly skipped: number;
}

/**
 * Outbox stream entries of tag group `group` as items; unreadable ones are returned apart, and
 * those whose type is in `skip` are counted and not parsed.
 */
export function toItems(
  group: number,
  entries: readonly [string, string[]][],
  skip?: ReadonlySet<string>,
): ReadItems {
  const items: OutboxItem[] = [];
  const unreadable: { id: string; raw: string }[] = [];
  let skipped = 0;
  for (const [entryId, fields] of entries) {
    const raw = fields[1] ?? '';
    if (skip !== undefined && skip.size > 0) {
      const type = peekType(raw);
      if (type !== undefined && skip.has(type)) {
        skipped++;
        continue;
      }
    }
    const id = `g${group}-${entryId}`;
    try {
      const event = JSON.parse(raw) as OutboxEventJson;
      if (typeof event?.type !== 'string') throw new TypeError('no type');
      items.push({ id, emittedAt: Number(entryId.split('-')[0]), event });
    } catch {
      unreadable.push({ id, raw });
    }
  }
  return { items, unreadable, skipped };
}
