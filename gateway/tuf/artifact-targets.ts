/**
 * Artifacts become TUF targets: `<kind>/<name>/<version>/<fileName>` with the artifact's SHA-256
 * and size, and custom `{ kind, name, version, hardware }` (the contract of issue 15). The
 * artifacts catalog calls `onRegistered` after it records an artifact; the release (targets,
 * snapshot, timestamp) is signed before the hook resolves.
 */

import type { ArtifactIdentity } from '../artifacts/mod.ts';
import type { TufTargetInput } from './repository.ts';

/** The catalog's listener hook (contract 2), and its list for catching up. */
export interface ArtifactRegistrations {
  onRegistered(fn: (artifact: ArtifactIdentity) => Promise<void>): unknown;
  /** Every artifact: those whose hook never ran (a crash, a failed signing) are signed from it. */
  list?(): Promise<readonly ArtifactIdentity[]>;
}

/** An artifact's target path: `<kind>/<name>/<version>/<fileName>`. */
export function artifactTargetPath(a: Pick<ArtifactIdentity, 'kind' | 'name' | 'version' | 'fileName'>) {
  return `${a.kind}/${a.name}/${a.version}/${a.fileName}`;
}

export function artifactTarget(a: ArtifactIdentity): TufTargetInput {
  return {
    path: artifactTargetPath(a),
    length: a.size,
    sha256: a.sha256,
    custom: { kind: a.kind, name: a.name, version: a.version, hardware: [...a.hardware] },
  };
}
