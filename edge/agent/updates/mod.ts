/**
 * The agent's updates: the TUF client (tuf-client.ts), the CDN downloader (download.ts), and the
 * install on the box — A/B slots, the job journal, install per package, the health gate, the
 * agent's own update (docs/decisions/025-agent-install.md).
 */

export type { DownloadOptions, DownloadProgress, DownloadResult } from './download.ts';
export { downloadArtifact } from './download.ts';
export type { UpdateErrorCode } from './errors.ts';
export { reasonOf, UpdateError } from './errors.ts';
export type { Downloader, TrustedTargets } from './fetch-target.ts';
export { downloadPath, downloadTarget, verifyTarget } from './fetch-target.ts';
export type { HealthSignals } from './health-gate.ts';
export type { Job, JobPhase } from './journal.ts';
export { SELF_PACKAGE } from './self-update.ts';
export type { SlotName } from './slots.ts';
export { Slots } from './slots.ts';
export type { TufClient, TufClientOptions, TufTarget } from './tuf-client.ts';
export { openTufClient } from './tuf-client.ts';
export { parseUpdateArgs } from './update-command.ts';
export type { UpdaterOptions } from './updater.ts';
export { Updater } from './updater.ts';
