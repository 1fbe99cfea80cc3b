/**
 * Artifacts of the updates (issue 15): edge packages, wall-screen bundles and recognition models,
 * uploaded streamed into the object store (objects/), content-addressed by SHA-256, recorded in
 * the database, served as the CDN's origin; the catalog tells listeners (the TUF repository) of
 * each new one.
 */
export {
  ArtifactCatalog,
  type ArtifactCatalogOptions,
  type ArtifactIdentity,
  type ArtifactRecord,
  type ArtifactUpload,
  DEFAULT_MAX_ARTIFACT_BYTES,
  type UploadOutcome,
} from './catalog.ts';
export { ARTIFACT_REFUSALS, ArtifactError, type ArtifactRefusal } from './errors.ts';
export { artifactMetrics } from './metrics.ts';
export { artifactRoutes, isArtifactUpload } from './routes.ts';
export { type SentObject, sendObject } from './send-object.ts';
