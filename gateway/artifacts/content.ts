/**
 * An artifact's bytes, public: `GET /v1/artifacts/{sha256}/content`, the origin the CDN's caches
 * fetch from — immutable, so cached for a year (ETag, If-None-Match → 304), HEAD without opening
 * the object, Range (and If-Range) for resumed downloads, 416 past the end.
 */
import { createRoute, type RouteHandler, z } from '@hono/zod-openapi';
import type { AuthEnv } from '../auth.ts';
import { ApiError } from '../errors.ts';
import { ErrorSchema, json } from '../routes/schemas.ts';
import type { ArtifactCatalog } from './catalog.ts';
import { Sha256Param } from './schemas.ts';
import { sendObject } from './send-object.ts';

const binary = (description: string) => ({
  description,
  content: {
    'application/octet-stream': { schema: z.string().openapi({ type: 'string', format: 'binary' }) },
  },
});

export const content = createRoute({
  method: 'get',
  path: '/v1/artifacts/{sha256}/content',
  summary: 'An artifact’s bytes (public, immutable; Range for a part): the CDN’s origin',
  security: [],
  request: {
    params: Sha256Param,
    headers: z.object({
      range: z.string().optional().openapi({ example: 'bytes=0-1023' }),
      'if-none-match': z.string().optional(),
      'if-range': z.string().optional(),
    }),
  },
  responses: {
    200: binary('The whole artifact'),
    206: binary('The range asked for (Content-Range)'),
    304: { description: 'Not modified (If-None-Match has its ETag)' },
    400: json(ErrorSchema, 'The request is not valid'),
    404: json(ErrorSchema, 'No such artifact'),
    416: json(ErrorSchema, 'The range starts past the end (Content-Range: bytes */size)'),
    500: json(ErrorSchema, 'The gateway failed'),
    503: json(ErrorSchema, 'The gateway has no object store'),
  },
});

/** The content route's handler; `catalog` throws UNAVAILABLE on a gateway without an object store. */
export function serveContent(catalog: () => ArtifactCatalog): RouteHandler<typeof content, AuthEnv> {
  return async (c) => {
    const { sha256 } = c.req.valid('param');
    const artifacts = catalog();
    const record = await artifacts.get(sha256);
    if (record === undefined) throw new ApiError('NOT_FOUND', `No artifact ${sha256}`);
    return sendObject(c, {
      etag: `"${sha256}"`,
      cacheControl: 'public, max-age=31536000, immutable',
      contentType: 'application/octet-stream',
      size: record.size,
      read: (range) => artifacts.read(sha256, range === undefined ? {} : { range }),
      // A row without its bytes: the store lost them (a row is written only after its object).
      missing: (err) => new Error(`artifact ${sha256} has no object`, { cause: err }),
    });
  };
}
