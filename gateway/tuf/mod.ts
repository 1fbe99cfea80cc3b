/**
 * The Update Framework on the hub: signing keys from the operator's files, the repository of
 * root/targets/snapshot/timestamp in the database (consistent snapshots, signing serialized by a
 * row lock), the upkeep that re-signs the timestamp under a lease, artifacts signed as targets,
 * and the public metadata routes (`/v1/tuf/metadata/{file}`). See README.md and docs/decisions/023.
 */
export type { ArtifactRegistrations } from './artifact-targets.ts';
export { artifactTarget, artifactTargetPath } from './artifact-targets.ts';
export type { TufErrorCode } from './errors.ts';
export { TufError } from './errors.ts';
export type { CreateTufKeysOptions, RolePolicy, TufKeys, TufRole } from './keys.ts';
export { createTufKeys, DEFAULT_ROLE_POLICY, loadTufKeys, TUF_ROLES } from './keys.ts';
export type { SignedFile } from './metadata.ts';
export { tufMetrics } from './metrics.ts';
export type { TufTargetInput, TufVersions } from './repository.ts';
export { TufRepository } from './repository.ts';
export { TIMESTAMP_MAX_AGE_SECONDS, tufRoutes } from './routes.ts';
export type { StartedTuf, TufOptions } from './start.ts';
export { startTuf } from './start.ts';
export type { TufUpkeep, TufUpkeepOptions } from './upkeep.ts';
export { startTufUpkeep, upkeepInterval } from './upkeep.ts';
