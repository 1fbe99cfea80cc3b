/**
 * What an outbox event does to an elevator in the screen read model, as a change for the model to
 * apply (it moves the elevator between scopes and counts it again): `edge.tile` lays the tile's
 * fields over it, `edge.online`/`edge.offline` its presence, `alarm.start`/`alarm.end` its open
 * alarms. Undefined: the event changes nothing — another type, already so, or older than what the
 * model has (replayed after a rebuild read the newer state: a tile or an offline whose `lastSeen`
 * is earlier, the end of an earlier opening of the same alarm).
 */
import { TILE_EVENT } from '../../edge/mod.ts';
import type { OutboxItem } from '../outbox/events.ts';
import { assignEventFields, type ElevatorRecord, NO_TIME } from './tile.ts';

/** The change, returning whether the open alarms changed. */
export type Change = () => boolean;

export function changeOf(r: ElevatorRecord, item: OutboxItem): Change | undefined {
  const e = item.event;
  const lastSeen = typeof e.lastSeen === 'number' ? e.lastSeen : NO_TIME;
  const older = lastSeen < r.lastSeen; // false when either is not known (NO_TIME)
  switch (e.type) {
    case TILE_EVENT:
      if (older) return undefined;
      return () => {
        assignEventFields(r.fields, e);
        r.lastSeen = lastSeen;
        r.enteredAt = typeof e.enteredAt === 'number' ? e.enteredAt : NO_TIME;
        return false;
      };
    case 'edge.online':
    case 'edge.offline': {
      const online = e.type === 'edge.online';
      if (r.fields.online === online || (!online && older)) return undefined;
      return () => {
        r.fields.online = online;
        r.enteredAt = item.emittedAt;
        return false;
      };
    }
    case 'alarm.start': {
      const kind = e.alarm;
      if (typeof kind !== 'string' || r.alarms.has(kind)) return undefined;
      const at = typeof e.at === 'number' ? e.at : item.emittedAt;
      return () => {
        r.alarms.set(kind, at);
        r.enteredAt = item.emittedAt;
        return true;
      };
    }
    case 'alarm.end': {
      const kind = e.alarm;
      if (typeof kind !== 'string' || !r.alarms.has(kind)) return undefined;
      if (typeof e.since === 'number' && e.since !== r.alarms.get(kind)) return undefined;
      return () => {
        r.alarms.delete(kind);
        r.enteredAt = item.emittedAt;
        return true;
      };
    }
    default:
      return undefined;
  }
}
