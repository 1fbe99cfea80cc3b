/**
 * The artifacts API: uploads (admin; the body streamed raw into the object store, see catalog.ts),
 * the records (operator), and the bytes (`/v1/artifacts/{sha256}/content`, public: the origin the
 * CDN's caches fetch from — immutable, so cached for a year, with Range for resumed downloads).
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { audit } from '../audit.ts';
import { type AuthEnv, actorOf, requireAuth } from '../auth.ts';
import type { GatewayDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { AUTH_ERRORS, ErrorSchema, json } from '../routes/schemas.ts';
import type { ArtifactCatalog, ArtifactUpload } from './catalog.ts';
import { content, serveContent } from './content.ts';
import { ArtifactError } from './errors.ts';
import {
  ArtifactSchema,
  ListQuery,
  Sha256Param,
  UPLOAD_BODY,
  UploadHeaders,
  UploadOptionsQuery,
  UploadParams,
  UploadQuery,
} from './schemas.ts';

const UPLOAD_RESPONSES = {
  200: json(ArtifactSchema, 'The same artifact was registered already (a retried upload)'),
  201: json(ArtifactSchema, 'Stored and registered'),
  ...AUTH_ERRORS,
  400: json(ErrorSchema, 'A bad query, or the body: TRUNCATED, HASH_MISMATCH, EMPTY, LENGTH_MISMATCH'),
  409: json(ErrorSchema, 'CONFLICT: the name/version holds other bytes, or these bytes another name/version'),
  413: json(ErrorSchema, 'TOO_LARGE: the body is over the gateway’s bound (2 GB by default)'),
  503: json(ErrorSchema, 'The gateway has no object store'),
};

const post = createRoute({
  method: 'post',
  path: '/v1/artifacts',
  summary: 'Upload an artifact (its bytes as the raw body, streamed; content-addressed by SHA-256)',
  request: { query: UploadQuery, headers: UploadHeaders, body: UPLOAD_BODY },
  responses: UPLOAD_RESPONSES,
});

const put = createRoute({
  method: 'put',
  path: '/v1/artifacts/{kind}/{name}/{version}',
  summary: 'Upload an artifact under its kind, name and version (the raw body, streamed)',
  request: { params: UploadParams, query: UploadOptionsQuery, headers: UploadHeaders, body: UPLOAD_BODY },
  responses: UPLOAD_RESPONSES,
});

const list = createRoute({
  method: 'get',
  path: '/v1/artifacts',
  summary: 'Artifacts, oldest first (optionally of one kind and name)',
  request: { query: ListQuery },
  responses: {
    200: json(z.object({ artifacts: z.array(ArtifactSchema) }), 'The artifacts'),
    ...AUTH_ERRORS,
    503: json(ErrorSchema, 'The gateway has no object store'),
  },
});

const one = createRoute({
  method: 'get',
  path: '/v1/artifacts/{sha256}',
  summary: 'One artifact’s record',
  request: { params: Sha256Param },
  responses: {
    200: json(ArtifactSchema, 'The artifact'),
    ...AUTH_ERRORS,
    404: json(ErrorSchema, 'No such artifact'),
    503: json(ErrorSchema, 'The gateway has no object store'),
  },
});

/** Whether a request streams its body past the app's body limit (an artifact upload). */
export function isArtifactUpload(method: string, path: string): boolean {
  return (
    (method === 'POST' && path === '/v1/artifacts') ||
    (method === 'PUT' && /^\/v1\/artifacts\/[^/]+\/[^/]+\/[^/]+$/.test(path))
  );
}

export function artifactRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  app.post('/v1/artifacts', requireAuth(deps.auth, 'admin'));
  app.put('/v1/artifacts/:kind/:name/:version', requireAuth(deps.auth, 'admin'));
  app.get('/v1/artifacts', requireAuth(deps.auth, 'operator'));
  app.get('/v1/artifacts/:sha256', requireAuth(deps.auth, 'operator'));

  const catalog = () => catalogOf(deps);

  app.openapi(post, async (c) => {
    const q = c.req.valid('query');
    return upload(c, deps, { ...q, fileName: q.fileName ?? `${q.name}-${q.version}` });
  });

  app.openapi(put, async (c) => {
    const p = c.req.valid('param');
    const q = c.req.valid('query');
    return upload(c, deps, { ...p, hardware: q.hardware, fileName: q.fileName ?? `${p.name}-${p.version}` });
  });

  app.openapi(list, async (c) => c.json({ artifacts: await catalog().list(c.req.valid('query')) }, 200));

  app.openapi(one, async (c) => {
    const { sha256 } = c.req.valid('param');
    const record = await catalog().get(sha256);
    if (record === undefined) throw new ApiError('NOT_FOUND', `No artifact ${sha256}`);
    return c.json(record, 200);
  });

  app.openapi(content, serveContent(catalog));

  return app;
}

/** The gateway's catalog; UNAVAILABLE (503) on a gateway without an object store. */
function catalogOf(deps: GatewayDeps): ArtifactCatalog {
  if (deps.artifacts === undefined)
    throw new ApiError('UNAVAILABLE', 'This gateway has no object store (--object-store)');
  return deps.artifacts;
}

async function upload(
  c: Context<AuthEnv>,
  deps: GatewayDeps,
  u: Omit<ArtifactUpload, 'actor' | 'expectedSha256' | 'contentLength'>,
) {
  const length = c.req.header('content-length');
  const expected = c.req.header('x-content-sha256')?.toLowerCase();
  const actor = actorOf(c.get('principal'));
  try {
    const { record, created } = await catalogOf(deps).upload(c.req.raw.body, {
      ...u,
      actor,
      ...(expected === undefined ? {} : { expectedSha256: expected }),
      ...(length === undefined || !/^\d+$/.test(length) ? {} : { contentLength: Number(length) }),
    });
    if (created)
      await audit(deps.db, {
        actor,
        action: 'artifact.upload',
        target: `artifact/${record.sha256}`,
        details: { kind: record.kind, name: record.name, version: record.version, size: record.size },
      });
    return c.json(record, created ? 201 : 200);
  } catch (err) {
    if (err instanceof ArtifactError)
      return c.json(
        { error: { code: err.code, message: err.message, details: err.details } },
        err.status as 400 | 409 | 413,
      );
    throw err;
  }
}
