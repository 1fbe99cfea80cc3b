/**
 * The sink handler that keeps the alarm history in step with the actors: alarm starts and ends
 * into the partitioned alarm history, idempotent (a batch may come twice). Tunnel states have
 * theirs in `gateway/tunnels/records.ts`.
 */
import type { Db } from '../db/database.ts';
import { alarms } from '../db/schema.ts';
import type { SinkHandler } from './sink.ts';

const time = (value: unknown): Date | null =>
  typeof value === 'number' && Number.isFinite(value) ? new Date(value) : null;

export function recordAlarms(db: Db): SinkHandler {
  return async (items) => {
    const rows = items.flatMap(({ id, emittedAt, event }) => {
      if ((event.type !== 'alarm.start' && event.type !== 'alarm.end') || typeof event.edgeId !== 'string')
        return [];
      return [
        {
          eventId: id,
          recordedAt: new Date(emittedAt),
          edgeId: event.edgeId,
          alarm: String(event.alarm),
          phase: event.type === 'alarm.start' ? ('start' as const) : ('end' as const),
          at: time(event.at) ?? new Date(emittedAt),
          since: time(event.since),
          data: (event.data ?? {}) as Record<string, unknown>,
        },
      ];
    });
    if (rows.length > 0) await db.insert(alarms).values(rows).onConflictDoNothing();
  };
}
