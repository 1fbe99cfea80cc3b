/**
 * Wall screens (大屏): a screen is an edge with hardware `screen` whose rollouts are delivered by
 * 'pull'. It runs the loader page (`/screens/{id}`, client/), long-polls its manifest (the bundle
 * its edge actor's assignment names, with its CDN URLs), checks and stores the bundle, reloads
 * into it and reports its state and health (`/v1/screens/{id}/status`). Decision 027.
 *
 * What a wall shows (decision 043): the read model (read-model.ts) of every elevator's tile, open
 * alarms and counts per scope (`fleet`, `group:<id>`, `building:<name>`), fed by the outbox and the
 * live streams (decision 056) and rebuilt from Redis at start (metrics.ts: its `/metrics`); served as snapshots with ETags, SSE and WebSocket deltas
 * (feed-routes.ts, sse.ts, feed-socket.ts) and the page `/ui/screen/<scope>`.
 */
export type { BundleTarget, ScreenAssignment } from './assignment.ts';
export { assignedBundle, installedBundle } from './assignment.ts';
export { DEMO_BUNDLE_FILE, DEMO_BUNDLE_NAME, demoBundle } from './demo-bundle.ts';
export { screenSocket, screenSocketScope } from './feed-socket.ts';
export type { BundleLookup, ScreenBundle, ScreenManifest } from './manifest.ts';
export { screenManifest } from './manifest.ts';
export { screenMetrics } from './metrics.ts';
export type { ScreenModelOptions, ScreenModelSettings } from './read-model.ts';
export { ScreenModel } from './read-model.ts';
export type { ScreenOptions } from './routes.ts';
export { screenRoutes } from './routes.ts';
export { SCOPE_PATTERN } from './scope-access.ts';
export type { ScreenFrame, ScreenSubscriber } from './scope-view.ts';
export { screenSnapshotFirst } from './snapshot-first.ts';
export type { ScreenStatus } from './status.ts';
export { statusMessages } from './status.ts';
export type { Tile, TileState } from './tile.ts';
