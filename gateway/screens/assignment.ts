/**
 * Which bundle a screen should run, read from its edge actor's state: the update a rollout
 * assigned to it (`EdgeState.updates.assigned`, delivery 'pull': the actor records it and sends
 * no command; the screen fetches it here), else the screen bundle it last reported healthy
 * (`EdgeState.updates.installed`). Read defensively: the state is JSON from Redis, written by
 * another layer, and an unexpected shape means "no bundle", never a 500.
 */

/** A screen bundle as a TUF target: where it is, what it is, how to check it. */
export interface BundleTarget {
  /** TUF target path `screen-bundle/<name>/<version>/<fileName>`. */
  readonly path: string;
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
  readonly length: number;
}

export interface ScreenAssignment {
  readonly target: BundleTarget;
  /** The rollout that assigned it (null: the installed bundle, no rollout running). */
  readonly rollout: string | null;
  /** How long the new bundle has to report healthy before the screen goes back (ms). */
  readonly healthDeadlineMs: number;
  /** The screen starts its download after a random delay within this (no thundering herd), ms. */
  readonly spreadMs: number;
}

export const SCREEN_BUNDLE_KIND = 'screen-bundle';
export const DEFAULT_HEALTH_DEADLINE_MS = 60_000;

const SHA256 = /^[0-9a-f]{64}$/;
/** A JSON object (not an array, not null). */
export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A target of kind screen-bundle with everything a screen needs to fetch and verify it. */
export function asBundleTarget(value: unknown): BundleTarget | undefined {
  if (!isRecord(value)) return undefined;
  const { path, name, version, sha256, length, kind } = value;
  if (typeof path !== 'string' || typeof name !== 'string' || typeof version !== 'string') return undefined;
  if (kind !== undefined && kind !== SCREEN_BUNDLE_KIND) return undefined;
  if (kind === undefined && !path.startsWith(`${SCREEN_BUNDLE_KIND}/`)) return undefined;
  if (typeof sha256 !== 'string' || !SHA256.test(sha256)) return undefined;
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) return undefined;
  return { path, name, version, sha256, length };
}

/** States after which an assignment no longer asks the screen to move (it failed or went back). */
const GAVE_UP = new Set(['failed', 'rolled_back', 'aborted', 'cancelled']);

/** The rollout's assignment of a screen bundle, when one is in force. */
export function assignedBundle(updates: unknown): ScreenAssignment | undefined {
  if (!isRecord(updates) || !isRecord(updates.assigned)) return undefined;
  const assigned = updates.assigned;
  if (typeof assigned.rollout !== 'string') return undefined;
  if (typeof assigned.state === 'string' && GAVE_UP.has(assigned.state)) return undefined;
  const targets = Array.isArray(assigned.targets) ? assigned.targets : [assigned.target];
  for (const t of targets) {
    const target = asBundleTarget(t);
    if (target === undefined) continue;
    const deadline = assigned.healthDeadlineMs;
    const spread = assigned.spreadMs;
    return {
      spreadMs: typeof spread === 'number' && spread >= 0 && spread <= 3_600_000 ? spread : 0,
      target,
      rollout: assigned.rollout,
      healthDeadlineMs:
        typeof deadline === 'number' && deadline >= 1000 && deadline <= 3_600_000
          ? deadline
          : DEFAULT_HEALTH_DEADLINE_MS,
    };
  }
  return undefined;
}

/**
 * The screen bundle the screen runs now, as the actor recorded it (installed versions are keyed
 * by name or listed; either shape is read). Only `name`/`version` may be known: the caller then
 * looks the rest up in the artifacts catalog.
 */
export function installedBundle(
  updates: unknown,
): { readonly name: string; readonly version: string; readonly target?: BundleTarget } | undefined {
  if (!isRecord(updates)) return undefined;
  const installed = updates.installed;
  const entries: [string | undefined, unknown][] = Array.isArray(installed)
    ? installed.map((v) => [undefined, v])
    : isRecord(installed)
      ? Object.entries(installed)
      : [];
  for (const [key, value] of entries) {
    if (!isRecord(value)) continue;
    const target = asBundleTarget({ name: key, ...value });
    if (target !== undefined) return { name: target.name, version: target.version, target };
    const path =
      typeof value.path === 'string' ? value.path : typeof value.target === 'string' ? value.target : '';
    const isScreen = value.kind === SCREEN_BUNDLE_KIND || path.startsWith(`${SCREEN_BUNDLE_KIND}/`);
    const name = typeof value.name === 'string' ? value.name : key;
    if (isScreen && name !== undefined && typeof value.version === 'string')
      return { name, version: value.version };
  }
  return undefined;
}
