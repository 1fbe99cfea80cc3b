/**
 * Which CDN mirrors an edge downloads its updates from: the `cdn` pool of the `devicehub`
 * configuration (`PUT /v1/config/devicehub/global {"cdn": {...}}`), ranked for each edge by the
 * same weighted rendezvous that names its broker (edge/protocol's `rankByRendezvous`). The first
 * mirror is the edge's own cache, the rest the order it falls over in; adding a cache moves only
 * the edges it now wins, removing one moves only its own (docs/decisions/024-cdn.md).
 */
import { rankByRendezvous } from '../edge/protocol/mod.ts';

/** One cache of the pool: `url` is its base (`https://cdn-1.example:8443`). */
export interface CdnMirror {
  readonly id: string;
  readonly url: string;
  readonly weight: number;
}

/** The `cdn` value of the devicehub configuration (routes/config.ts checks it on write). */
export interface CdnPool {
  readonly mirrors: readonly CdnMirror[];
  /** Where the signed TUF metadata is served (`https://<gateway>/v1/tuf/metadata`). */
  readonly metadataUrl?: string;
}

/** What an edge's configuration carries as `updates` (edge/agent/config.ts's EdgeConfig). */
export interface UpdatesConfig {
  /** Base URLs, best first for this edge. */
  readonly mirrors: string[];
  readonly metadataUrl?: string;
}

/** The pool in a devicehub configuration body, or undefined when it has none (or it is malformed). */
export function cdnPoolOf(body: Record<string, unknown> | undefined): CdnPool | undefined {
  const cdn = body?.cdn as { mirrors?: unknown; metadataUrl?: unknown } | undefined;
  if (typeof cdn !== 'object' || cdn === null || !Array.isArray(cdn.mirrors)) return undefined;
  const mirrors = cdn.mirrors.filter(
    (m): m is CdnMirror =>
      typeof m === 'object' &&
      m !== null &&
      typeof m.id === 'string' &&
      typeof m.url === 'string' &&
      typeof m.weight === 'number',
  );
  return typeof cdn.metadataUrl === 'string' ? { mirrors, metadataUrl: cdn.metadataUrl } : { mirrors };
}

/** The `updates` of `edgeId`'s configuration, or undefined with no pool. */
export function updatesConfig(edgeId: string, pool: CdnPool | undefined): UpdatesConfig | undefined {
  if (pool === undefined) return undefined;
  const mirrors = rankByRendezvous(edgeId, pool.mirrors).map((m) => m.url);
  return pool.metadataUrl === undefined ? { mirrors } : { mirrors, metadataUrl: pool.metadataUrl };
}
