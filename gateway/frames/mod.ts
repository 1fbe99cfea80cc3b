/**
 * Vision frames (issue 17): the candidate JPEGs edges upload for a second look
 * (`PUT /v1/edges/{id}/frames/{eventId}?index=`, the edge's own credentials, size, type and magic
 * bytes checked, streamed and bounded, idempotent), stored at `frameKey` in the object store where
 * the recognition workers read them; served to operators for the dashboard; counted on /metrics.
 * docs/decisions/034-frames.md.
 */
export { FRAME_REFUSALS, FrameError, type FrameRefusal } from './errors.ts';
export { FrameCounts, type FrameOutcome, frameMetrics } from './metrics.ts';
export { isJpeg, receiveFrame } from './receive.ts';
export { DEFAULT_MAX_FRAME_BYTES, frameRoutes, isFrameUpload } from './routes.ts';
