/**
 * A screen bundle by name and version from the artifacts catalog, for a screen whose manifest
 * names a bundle no rollout assigned (the configuration's first bundle; an installed one the actor
 * knows only by version). An artifact's name and version never change bytes (the catalog refuses
 * that), so a found one is kept for good; a missing one is asked again after MISS_MS. A long-poll
 * re-reads its manifest every second: without this, one database query per waiting screen per second.
 */
import type { ArtifactCatalog } from '../artifacts/mod.ts';
import { artifactTargetPath } from '../tuf/mod.ts';
import { type BundleTarget, SCREEN_BUNDLE_KIND } from './assignment.ts';
import type { BundleLookup } from './manifest.ts';

const MISS_MS = 10_000;
const MAX_KEPT = 1000;

export function catalogLookup(
  catalog: Pick<ArtifactCatalog, 'list'>,
  now: () => number = Date.now,
): BundleLookup {
  const found = new Map<string, BundleTarget>();
  const missed = new Map<string, number>();
  return async (name, version) => {
    const key = `${name}\u0000${version}`;
    const kept = found.get(key);
    if (kept !== undefined) return kept;
    if ((missed.get(key) ?? 0) > now()) return undefined;
    const record = (await catalog.list({ kind: SCREEN_BUNDLE_KIND, name })).find(
      (a) => a.version === version,
    );
    if (found.size >= MAX_KEPT) found.clear();
    if (missed.size >= MAX_KEPT) missed.clear();
    if (record === undefined) {
      missed.set(key, now() + MISS_MS);
      return undefined;
    }
    const target: BundleTarget = {
      path: artifactTargetPath(record),
      name,
      version,
      sha256: record.sha256,
      length: record.size,
    };
    found.set(key, target);
    return target;
  };
}
