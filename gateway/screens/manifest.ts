/**
 * A screen's manifest: the bundle it should run (a TUF target: path, sha256, length, and the URLs
 * to fetch it from, its ranked CDN mirrors first), the rollout that asked for it, how long a new
 * bundle has to report healthy, and the screen's own configuration (`/v1/config/screen/{id}`'s
 * document), so one long-poll tells a screen of both. The ETag is a hash of the whole answer.
 *
 * The bundle, in order: the rollout's assignment in the edge actor's state; else the bundle the
 * actor recorded as installed; else the configuration's `bundle: { name, version }` (a fresh
 * screen's first bundle, before any rollout), both looked up in the artifacts catalog.
 */
import { createHash } from 'node:crypto';
import { readActorState } from '../../actors/mod.ts';
import type { Bus } from '../../bus/mod.ts';
import type { FleetView } from '../fleet-view.ts';
import {
  assignedBundle,
  type BundleTarget,
  DEFAULT_HEALTH_DEADLINE_MS,
  installedBundle,
  isRecord,
  type ScreenAssignment,
} from './assignment.ts';

export interface ScreenBundle extends BundleTarget {
  /** Where to fetch it, best first: the screen's ranked CDN mirrors, or the gateway (relative). */
  readonly urls: readonly string[];
}

export interface ScreenManifest {
  readonly screen: string;
  readonly bundle: ScreenBundle | null;
  readonly rollout: string | null;
  readonly healthDeadlineMs: number;
  /** Wait a random time within this before downloading (the rollout's spread), ms. */
  readonly spreadMs: number;
  readonly config: Readonly<Record<string, unknown>>;
}

/** Looks a screen bundle up by name and version (the artifacts catalog). */
export type BundleLookup = (name: string, version: string) => Promise<BundleTarget | undefined>;

export interface ManifestSources {
  readonly bus: Bus;
  readonly view: FleetView;
  readonly lookup?: BundleLookup | undefined;
}

/** The content path of an artifact on the origin and on every mirror (the caches front it). */
export const contentPath = (sha256: string) => `/v1/artifacts/${sha256}/content`;

/** The screen's mirrors, ranked for it, as its edge configuration names them (the `cdn` pool). */
function mirrorsOf(view: FleetView, id: string): string[] {
  const updates = view.resolve('edge', id)?.body.updates;
  if (!isRecord(updates) || !Array.isArray(updates.mirrors)) return [];
  return updates.mirrors.filter((m): m is string => typeof m === 'string' && /^https?:\/\//.test(m));
}

/** Which bundle, by the order in the module comment. */
async function chooseBundle(
  sources: ManifestSources,
  id: string,
  config: Record<string, unknown>,
): Promise<ScreenAssignment | undefined> {
  const updates = (await readActorState<{ updates?: unknown }>(sources.bus, `edge/${id}`))?.state.updates;
  const assigned = assignedBundle(updates);
  if (assigned !== undefined) return assigned;
  const installed = installedBundle(updates);
  const configured = isRecord(config.bundle) ? config.bundle : undefined;
  const wanted =
    installed ??
    (typeof configured?.name === 'string' && typeof configured.version === 'string'
      ? { name: configured.name, version: configured.version }
      : undefined);
  if (wanted === undefined) return undefined;
  const target =
    'target' in wanted && wanted.target !== undefined
      ? wanted.target
      : await sources.lookup?.(wanted.name, wanted.version);
  return target === undefined
    ? undefined
    : { target, rollout: null, healthDeadlineMs: DEFAULT_HEALTH_DEADLINE_MS, spreadMs: 0 };
}

/** The manifest of screen `id` and its ETag. */
export async function screenManifest(
  sources: ManifestSources,
  id: string,
): Promise<{ manifest: ScreenManifest; etag: string }> {
  const config = sources.view.resolve('screen', id)?.body ?? {};
  const chosen = await chooseBundle(sources, id, config);
  const mirrors = mirrorsOf(sources.view, id);
  const bundle =
    chosen === undefined
      ? null
      : {
          ...chosen.target,
          urls:
            mirrors.length > 0
              ? mirrors.map((m) => m.replace(/\/+$/, '') + contentPath(chosen.target.sha256))
              : [contentPath(chosen.target.sha256)],
        };
  const manifest: ScreenManifest = {
    screen: id,
    bundle,
    rollout: chosen?.rollout ?? null,
    healthDeadlineMs: chosen?.healthDeadlineMs ?? DEFAULT_HEALTH_DEADLINE_MS,
    spreadMs: chosen?.spreadMs ?? 0,
    config,
  };
  const etag = `"${createHash('sha1').update(JSON.stringify(manifest)).digest('base64url')}"`;
  return { manifest, etag };
}
