/**
 * The configuration re-poll answered 304 before the app (decision 046): `GET /v1/config/{kind}/{id}`
 * with `If-None-Match` and no long-poll wait, from credentials this gateway already holds as valid
 * (the authenticator's cache), for a configuration no rollout gates, whose ETag still matches. It
 * is what nearly every poll of a fleet is, and answered here it costs a Map lookup and a regular
 * expression — no Request/Response objects, no validation, no middleware, no Redis or database.
 * Anything else (a first fetch, a changed ETag, a wait, unknown or uncached credentials, a gate
 * that is due a reload or is gating) goes to the app, which answers it exactly as before; this
 * path only ever answers what the app would have answered 304 with the same ETag.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticator } from '../auth.ts';
import { CONFIG_KINDS, type ConfigKind } from '../db/schema.ts';
import type { FleetView } from '../fleet-view.ts';
import type { ConfigRolloutGate } from '../rollouts/mod.ts';

const PATH = new RegExp(`^/v1/config/(${CONFIG_KINDS.join('|')})/([A-Za-z0-9_.:-]{1,128})(?:\\?wait=0)?$`);

export interface NotModifiedDeps {
  readonly auth: Authenticator;
  readonly view: FleetView;
  readonly gate: ConfigRolloutGate;
}

/** A request listener's first step: true when it answered 304, false when the app must answer. */
export type NotModified = (req: IncomingMessage, res: ServerResponse) => boolean;

export function configNotModified({ auth, view, gate }: NotModifiedDeps): NotModified {
  return (req, res) => {
    const seen = req.headers['if-none-match'];
    if (req.method !== 'GET' || seen === undefined || !req.url?.startsWith('/v1/config/')) return false;
    const match = PATH.exec(req.url);
    if (match === null) return false;
    const kind = match[1] as ConfigKind;
    const id = match[2]!;
    const principal = auth.cachedPrincipal(req.headers.authorization);
    if (principal === undefined) return false;
    // An edge fetches its own configuration only; the app says why not.
    if (principal.kind === 'edge' && (kind !== 'edge' || principal.id !== id)) return false;
    if (!gate.settled(kind, id)) return false;
    const config = view.resolve(kind, id);
    if (config === undefined || config.etag !== seen) return false;
    res.writeHead(304, {
      etag: config.etag,
      'cache-control': principal.kind === 'edge' ? 'no-store' : 'no-cache',
    });
    res.end();
    return true;
  };
}
