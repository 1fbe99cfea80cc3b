/**
 * How a configuration is made from what the fleet view holds (fleet-view.ts): the documents of
 * its scopes merged (global → the edge's group → the module itself), an edge's credentials
 * version after a rotation, its broker from the pool, its CDN mirrors, and the strong ETag of
 * the result. The view caches what this returns until a change names it.
 */
import { createHash } from 'node:crypto';
import { assignBroker, brokerConfig, type PoolBroker } from './broker-assignment.ts';
import { cdnPoolOf, updatesConfig } from './cdn-assignment.ts';
import { mergeConfig } from './config-store.ts';
import type { ConfigKind } from './db/schema.ts';
import type { FleetEdges } from './fleet-edges.ts';
import { keyOf } from './fleet-notices.ts';

export interface ResolvedConfig {
  readonly body: Record<string, unknown>;
  /** Strong ETag of the merged body. */
  readonly etag: string;
}

/**
 * One scope's document replaced in a resolution: a configuration rollout serves an edge it has
 * not admitted yet the version before (gateway/rollouts/config-gate.ts); `body` undefined: no
 * document at that scope.
 */
export interface ConfigPin {
  readonly scope: string;
  readonly body: Record<string, unknown> | undefined;
}

/** What a configuration is made from: the view's documents (by keyOf), edges and broker pool. */
export interface ConfigSources {
  readonly docs: ReadonlyMap<string, { readonly body: Record<string, unknown> }>;
  readonly edges: FleetEdges;
  readonly brokers: readonly PoolBroker[];
}

/**
 * The merged configuration of module `id` of `kind` (global → its group → itself); for an
 * edge without a broker of its own, the pool's choice, and without `updates` of its own, the
 * CDN mirrors ranked for it (the devicehub configuration's `cdn` pool). Undefined for an unknown
 * edge. With `pin`, one scope's document is replaced.
 */
export function resolveConfig(
  kind: ConfigKind,
  id: string,
  { docs, edges, brokers }: ConfigSources,
  pin?: ConfigPin,
): ResolvedConfig | undefined {
  if (kind === 'edge' && !edges.groups.has(id)) return undefined;
  const group = kind === 'edge' ? edges.groups.get(id) : undefined;
  const scopes = ['global', ...(group ? [`group:${group}`] : []), `module:${id}`];
  let body: Record<string, unknown> = {};
  for (const scope of scopes) {
    const doc = pin?.scope === scope ? pin : docs.get(keyOf(kind, scope));
    if (doc?.body !== undefined) body = mergeConfig(body, doc.body);
  }
  const credentials = kind === 'edge' ? edges.credentialsOf(id) : undefined;
  // A rotation changes the configuration, so the edge's long-poll hears of it at once.
  if (credentials !== undefined) body = { ...body, credentials: { version: credentials } };
  if (kind === 'edge' && body.broker === undefined) {
    const broker = assignBroker(id, brokers);
    if (broker !== undefined) body = { ...body, broker: brokerConfig(broker) };
  }
  // The CDN mirrors ranked for this edge, from the devicehub configuration's `cdn` pool.
  if (kind === 'edge' && body.updates === undefined) {
    const updates = updatesConfig(id, cdnPoolOf(docs.get(keyOf('devicehub', 'global'))?.body));
    if (updates !== undefined) body = { ...body, updates };
  }
  const etag = `"${createHash('sha1').update(JSON.stringify(body)).digest('base64url')}"`;
  return { body, etag };
}
