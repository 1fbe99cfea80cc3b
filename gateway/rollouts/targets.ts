/**
 * What a rollout delivers, from the request: packages by name and version through the artifact
 * catalog (each an `update` target with its TUF path `<kind>/<name>/<version>/<fileName>`, hash
 * and length; the hardware they fit narrows the members), or a configuration version (the
 * document's kind and scope; edges not admitted yet are served the version before).
 */
import { and, eq } from 'drizzle-orm';
import type { UpdateTarget } from '../../edge/protocol/mod.ts';
import type { RolloutTarget } from '../../edge/rollout/mod.ts';
import type { ArtifactIdentity } from '../artifacts/mod.ts';
import type { Db } from '../db/database.ts';
import { type ConfigKind, configDocuments, configVersions } from '../db/schema.ts';
import { ApiError } from '../errors.ts';
import { parseDocument } from '../routes/config-documents.ts';
import { artifactTargetPath } from '../tuf/mod.ts';
import type { NewRolloutBody } from './schemas.ts';

/** Finds artifacts by name and version (and kind, when given). */
export type ArtifactFinder = (ref: {
  readonly kind?: string;
  readonly name: string;
  readonly version: string;
}) => Promise<readonly ArtifactIdentity[]>;

export interface ResolvedTarget {
  readonly target: RolloutTarget;
  /** Hardware the packages fit (none: any). */
  readonly hardware?: readonly string[];
  /** A configuration rollout's document, version and the version before; `write`: the new version's body. */
  readonly config?: {
    kind: ConfigKind;
    scope: string;
    version: number;
    baseVersion: number;
    write?: Record<string, unknown>;
  };
}

export async function resolveTarget(
  deps: { readonly db: Db; readonly findArtifacts?: ArtifactFinder },
  request: NewRolloutBody['target'],
): Promise<ResolvedTarget> {
  if ('config' in request) return await resolveConfig(deps.db, request.config);
  const targets: UpdateTarget[] = [];
  let hardware: Set<string> | undefined;
  for (const [i, ref] of request.packages.entries()) {
    const artifact = await findOne(deps.findArtifacts, ref, i);
    targets.push({
      path: artifactTargetPath(artifact),
      name: artifact.name,
      version: artifact.version,
      kind: artifact.kind,
      sha256: artifact.sha256,
      length: artifact.size,
    });
    if (artifact.hardware.length > 0) {
      const fits = new Set(artifact.hardware);
      hardware = hardware === undefined ? fits : new Set([...hardware].filter((h) => fits.has(h)));
    }
  }
  if (hardware !== undefined && hardware.size === 0)
    throw new ApiError('INVALID_REQUEST', 'target.packages: no hardware fits every package');
  return {
    target: { kind: 'packages', targets },
    ...(hardware === undefined ? {} : { hardware: [...hardware] }),
  };
}

type PackageRef = Extract<NewRolloutBody['target'], { packages: unknown }>['packages'][number];

async function findOne(
  find: ArtifactFinder | undefined,
  ref: PackageRef,
  i: number,
): Promise<ArtifactIdentity> {
  const where = `target.packages.${i}`;
  if (ref.sha256 !== undefined) {
    if (ref.length === undefined || ref.fileName === undefined || ref.kind === undefined)
      throw new ApiError(
        'INVALID_REQUEST',
        `${where}: an artifact given by sha256 needs kind, length and fileName`,
      );
    return {
      ...ref,
      kind: ref.kind,
      size: ref.length,
      fileName: ref.fileName,
      sha256: ref.sha256,
      hardware: [],
    };
  }
  if (find === undefined)
    throw new ApiError(
      'UNAVAILABLE',
      `${where}: this gateway has no artifact catalog; give sha256, length and fileName`,
    );
  const found = await find({ name: ref.name, version: ref.version, ...(ref.kind ? { kind: ref.kind } : {}) });
  if (found.length === 0)
    throw new ApiError(
      'INVALID_REQUEST',
      `${where}: no artifact ${ref.kind ?? ''}${ref.kind ? '/' : ''}${ref.name} ${ref.version}`,
    );
  if (found.length > 1)
    throw new ApiError(
      'INVALID_REQUEST',
      `${where}: ${found.length} artifacts are ${ref.name} ${ref.version}: name the kind`,
    );
  return found[0]!;
}

async function resolveConfig(
  db: Db,
  ref: {
    kind: ConfigKind;
    scope: string;
    version?: number | undefined;
    body?: Record<string, unknown> | undefined;
  },
): Promise<ResolvedTarget> {
  const [current] = await db
    .select({ version: configDocuments.version })
    .from(configDocuments)
    .where(and(eq(configDocuments.kind, ref.kind), eq(configDocuments.scope, ref.scope)));
  if (ref.body !== undefined) {
    // The new version is written after the rollout's row, so every gateway's gate holds first.
    const write = parseDocument(ref.kind, ref.body);
    const base = current?.version ?? 0;
    const version = base + 1;
    return {
      target: { kind: 'config', version, ...(base > 0 ? { previousVersion: base } : {}) },
      config: { kind: ref.kind, scope: ref.scope, version, baseVersion: base, write },
    };
  }
  if (current === undefined)
    throw new ApiError('INVALID_REQUEST', `target.config: no document ${ref.kind}/${ref.scope}`);
  const version = ref.version ?? current.version;
  if (version !== current.version)
    throw new ApiError(
      'CONFLICT',
      `target.config: ${ref.kind}/${ref.scope} is at version ${current.version}; a rollout delivers the current version, not ${version}`,
    );
  const exists = await db
    .select({ version: configVersions.version })
    .from(configVersions)
    .where(
      and(
        eq(configVersions.kind, ref.kind),
        eq(configVersions.scope, ref.scope),
        eq(configVersions.version, version - 1),
      ),
    );
  const baseVersion = exists.length > 0 ? version - 1 : 0;
  return {
    target: { kind: 'config', version, ...(baseVersion > 0 ? { previousVersion: baseVersion } : {}) },
    config: { kind: ref.kind, scope: ref.scope, version, baseVersion },
  };
}
