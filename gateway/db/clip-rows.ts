/**
 * A clip request as the `clips` row it starts (status `queued`): written by the gateway's outbox
 * sink when it queues the job, and by a clip worker that finds no row (the sink's insert lost).
 */
import type { ClipRequest } from '../../edge/protocol/mod.ts';
import type { clips } from './schema.ts';

export function queuedClipRow(r: ClipRequest): typeof clips.$inferInsert {
  return {
    id: r.clipId,
    edgeId: r.edgeId,
    alarm: r.alarm,
    alarmSince: new Date(r.since),
    alarmEnd: r.end === null ? null : new Date(r.end),
    cameraSerial: r.camera?.serial ?? null,
    cameraChannel: r.camera?.channel ?? null,
    windowStart: new Date(r.window.start),
    windowEnd: new Date(r.window.end),
    status: 'queued',
    requestedAt: new Date(r.requestedAt),
    retentionDays: r.retentionDays,
  };
}
