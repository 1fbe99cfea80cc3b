/**
 * A wall screen's snapshot poll answered before the app (decision 043, as the configuration
 * re-poll is in decision 046): `GET /v1/screens/{scope}` from credentials this gateway already
 * holds as valid (the authenticator's cache) that may see the scope, for a scope the read model
 * has. A matching `If-None-Match` is a 304 (decided on the scope's version alone), anything else
 * the scope's snapshot (scope-view.ts): a Map lookup, a regular expression and a write — no
 * Request/Response objects, no validation, no middleware. Everything else (a query string,
 * unknown or uncached credentials, a scope the caller may not see or that does not exist, no
 * read model) goes to the app, which answers it, errors included; this path only ever answers
 * what the app would have answered.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Authenticator, hasScope } from '../auth.ts';
import type { FleetView } from '../fleet-view.ts';
import type { ScreenModel } from './read-model.ts';
import { refusal, SCOPE_PATTERN } from './scope-access.ts';

const PREFIX = '/v1/screens/';

export interface SnapshotFirstDeps {
  readonly auth: Authenticator;
  readonly view: FleetView;
  readonly model: ScreenModel | undefined;
}

/** A request listener's first step: true when it answered, false when the app must. */
export function screenSnapshotFirst({ auth, view, model }: SnapshotFirstDeps) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = req.url;
    if (model === undefined || req.method !== 'GET' || url === undefined || !url.startsWith(PREFIX))
      return false;
    const raw = url.slice(PREFIX.length);
    if (raw.includes('/') || raw.includes('?')) return false;
    const name = decoded(raw);
    if (name === undefined || !SCOPE_PATTERN.test(name)) return false;
    const principal = auth.cachedPrincipal(req.headers.authorization);
    if (principal === undefined) return false;
    // The route's rules: an operator key sees any scope; a screen (edge) only its own.
    if (
      principal.kind === 'key'
        ? !hasScope(principal, 'operator')
        : refusal(view, principal, name) !== undefined
    )
      return false;
    const scope = model.scope(name);
    if (scope === undefined) return false;
    const etag = `"${scope.id}"`;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag, 'cache-control': 'no-cache' });
      res.end();
      return true;
    }
    const frame = scope.snapshot();
    const body = frame.body;
    res.writeHead(200, {
      etag: `"${frame.id}"`,
      'cache-control': 'no-cache',
      'content-type': 'application/json',
      'content-length': body.length,
    });
    res.end(body);
    return true;
  };
}

function decoded(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}
