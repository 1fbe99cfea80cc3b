/**
 * Alarm history and alarm clips for operators and the web backend (issue 16): `GET /v1/alarms`
 * (time range, edge, building, kind; each alarm with its clip), `GET /v1/clips/{id}`, and the
 * clips' signed, expiring links (`/v1/clips/{id}/video`, `/poster`; Range for seeking) that
 * `clip.ready` events carry to the web backend.
 */
export {
  CLIP_MEDIA,
  type ClipLinkOptions,
  ClipLinkSigner,
  type ClipLinks,
  type ClipMedia,
  type LinkRefusal,
  MIN_CLIP_KEY_BYTES,
} from './clip-links.ts';
export { withClipLinks } from './event-links.ts';
export {
  DEFAULT_KEEP_MONTHS,
  dropExpiredPartitions,
  RETENTION_LEASE,
  startPartitionRetention,
} from './retention.ts';
export { alarmRoutes } from './routes.ts';
export { type SeedAlarmsOptions, type SeedResult, seedAlarmHistory } from './seed.ts';
