/**
 * `GET /v1/tuf/metadata/{file}`: the repository's signed metadata, public (clients verify the
 * signatures; nothing here is secret). `timestamp.json` may be cached for a few seconds only (it
 * is how clients hear of a release); versioned files (`N.root.json`, `N.snapshot.json`,
 * `N.targets.json`) never change, so caches keep them for a year. ETags and 304s on both.
 */
import { createHash } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AuthEnv } from '../auth.ts';
import type { GatewayDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { ErrorSchema, json } from '../routes/schemas.ts';
import type { SignedFile } from './metadata.ts';

/** How long a cache may serve timestamp.json without asking again. */
export const TIMESTAMP_MAX_AGE_SECONDS = 5;

const FileParam = z.object({
  file: z
    .string()
    .regex(/^(timestamp|[1-9]\d{0,9}\.(root|targets|snapshot))\.json$/, 'timestamp.json or N.<role>.json')
    .openapi({ param: { name: 'file', in: 'path' }, example: '1.root.json' }),
});

const metadataRoute = createRoute({
  method: 'get',
  path: '/v1/tuf/metadata/{file}',
  summary: 'The Update Framework metadata of the artifacts (public: signed data)',
  description:
    'timestamp.json (newest; cached 5 s), N.root.json, N.snapshot.json, N.targets.json (consistent snapshots; immutable).',
  security: [],
  request: { params: FileParam },
  responses: {
    200: json(z.record(z.string(), z.unknown()), 'The signed metadata file'),
    304: { description: 'Not modified (If-None-Match)' },
    400: json(ErrorSchema, 'Not a metadata file name'),
    404: json(ErrorSchema, 'No such version'),
    503: json(ErrorSchema, 'This gateway has no TUF repository (start it with --tuf-keys-dir)'),
  },
});

export function tufRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  // The repository hands out the same object for a versioned file it keeps in memory: its ETag
  // is hashed once, not on every edge's request (a targets file grows with the catalog).
  const etags = new WeakMap<SignedFile, string>();
  const etagOf = (file: SignedFile) => {
    let etag = etags.get(file);
    if (etag === undefined) {
      etag = `"${createHash('sha256').update(file.body).digest('hex').slice(0, 32)}"`;
      etags.set(file, etag);
    }
    return etag;
  };
  app.openapi(metadataRoute, async (c) => {
    if (deps.tuf === undefined)
      throw new ApiError('UNAVAILABLE', 'This gateway has no TUF repository: start it with --tuf-keys-dir');
    const { file: name } = c.req.valid('param');
    const file = await deps.tuf.file(name);
    if (file === undefined) throw new ApiError('NOT_FOUND', `No TUF metadata ${name}`);
    const etag = etagOf(file);
    c.header('etag', etag);
    c.header(
      'cache-control',
      name === 'timestamp.json'
        ? `public, max-age=${TIMESTAMP_MAX_AGE_SECONDS}`
        : 'public, max-age=31536000, immutable',
    );
    if (c.req.header('if-none-match') === etag) return c.body(null, 304);
    c.header('content-type', 'application/json');
    return c.body(file.body, 200);
  });
  return app;
}
