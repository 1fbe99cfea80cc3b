/**
 * Wall screens (大屏): a screen is an edge with hardware `screen` whose rollouts are delivered by
 * 'pull'. It runs the loader page (`/screens/{id}`, client/), long-polls its manifest (the bundle
 * its edge actor's assignment names, with its CDN URLs), checks and stores the bundle, reloads
 * into it and reports its state and health (`/v1/screens/{id}/status`). Decision 027.
 */
export type { BundleTarget, ScreenAssignment } from './assignment.ts';
export { assignedBundle, installedBundle } from './assignment.ts';
export { DEMO_BUNDLE_FILE, DEMO_BUNDLE_NAME, demoBundle } from './demo-bundle.ts';
export type { BundleLookup, ScreenBundle, ScreenManifest } from './manifest.ts';
export { screenManifest } from './manifest.ts';
export type { ScreenOptions } from './routes.ts';
export { screenRoutes } from './routes.ts';
export type { ScreenStatus } from './status.ts';
export { statusMessages } from './status.ts';
