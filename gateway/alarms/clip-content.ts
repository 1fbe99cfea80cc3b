/**
 * A clip's video or poster through its signed link (public: the link is the credential):
 * `GET /v1/clips/{id}/video?exp=&sig=` (`video/mp4`) and `/poster` (`image/jpeg`) from the object
 * store, with an ETag, HEAD, and Range (sent as the artifacts are: 206 with Content-Range, 416 past
 * the end) so a browser's `<video>` can seek. A missing, tampered or expired link is a 403 whose
 * `details.reason` says which.
 */
import { createRoute, type RouteHandler, z } from '@hono/zod-openapi';
import type { ObjectStore } from '../../objects/mod.ts';
import { sendObject } from '../artifacts/mod.ts';
import type { AuthEnv } from '../auth.ts';
import type { Db } from '../db/database.ts';
import { ApiError, errorBody } from '../errors.ts';
import { ErrorSchema, json } from '../routes/schemas.ts';
import type { ClipLinkSigner, ClipMedia } from './clip-links.ts';
import { clipById } from './history.ts';
import { ClipIdParam, LinkQuery } from './schemas.ts';

const CONTENT_TYPES = { video: 'video/mp4', poster: 'image/jpeg' } as const satisfies Record<
  ClipMedia,
  string
>;

const binary = (media: ClipMedia, description: string) => ({
  description,
  content: { [CONTENT_TYPES[media]]: { schema: z.string().openapi({ type: 'string', format: 'binary' }) } },
});

export const clipContentRoute = (media: ClipMedia) =>
  createRoute({
    method: 'get',
    path: `/v1/clips/{id}/${media}`,
    summary:
      media === 'video'
        ? 'A clip’s video (MP4) through its signed link; Range for seeking'
        : 'A clip’s poster frame (JPEG) through its signed link',
    security: [],
    request: {
      params: ClipIdParam,
      query: LinkQuery,
      headers: z.object({
        range: z.string().optional().openapi({ example: 'bytes=0-1023' }),
        'if-none-match': z.string().optional(),
      }),
    },
    responses: {
      200: binary(media, 'The whole file'),
      206: binary(media, 'The range asked for (Content-Range)'),
      304: { description: 'Not modified (If-None-Match has its ETag)' },
      400: json(ErrorSchema, 'The request is not valid'),
      403: json(ErrorSchema, 'The link is missing, tampered with or expired (details.reason)'),
      404: json(ErrorSchema, 'No such clip, or it is not stored (any more)'),
      416: json(ErrorSchema, 'The range starts past the end (Content-Range: bytes */size)'),
      500: json(ErrorSchema, 'The gateway failed'),
      503: json(ErrorSchema, 'The gateway has no object store'),
    },
  });

const REFUSALS = {
  MISSING: 'The link needs exp and sig (ask GET /v1/clips/{id} for one)',
  BAD_SIGNATURE: 'The link’s signature does not match (tampered with, or signed with another key)',
  EXPIRED: 'The link has expired (ask GET /v1/clips/{id} for a new one)',
} as const;

export function serveClipContent(
  media: ClipMedia,
  deps: { db: Db; links: ClipLinkSigner; objects: ObjectStore | undefined },
): RouteHandler<ReturnType<typeof clipContentRoute>, AuthEnv> {
  return async (c) => {
    const { id } = c.req.valid('param');
    const refusal = deps.links.check(id, media, c.req.valid('query'));
    if (refusal !== undefined)
      return c.json(errorBody('FORBIDDEN', REFUSALS[refusal], { reason: refusal }), 403);
    const { objects } = deps;
    if (objects === undefined) throw new ApiError('UNAVAILABLE', 'This gateway has no object store');
    const row = await clipById(deps.db, id);
    const key = media === 'video' ? row?.videoKey : row?.posterKey;
    if (row === undefined || row.status !== 'stored' || !key)
      throw new ApiError('NOT_FOUND', `Clip ${id} is ${row === undefined ? 'unknown' : row.status}`);
    const info = await objects.head(key);
    if (info === undefined) throw new ApiError('NOT_FOUND', `Clip ${id} has no ${media} in the store`);
    const maxAge = Math.max(0, Number(c.req.valid('query').exp) - Math.floor(Date.now() / 1000));
    return sendObject(c, {
      etag: `"${media === 'video' && row.sha256 ? row.sha256 : `${id}-${media}-${info.size}`}"`,
      cacheControl: `private, max-age=${maxAge}`,
      contentType: CONTENT_TYPES[media],
      size: info.size,
      read: (range) => objects.get(key, range === undefined ? {} : { range }),
      missing: () => new ApiError('NOT_FOUND', `Clip ${id} has no ${media} in the store`),
    });
  };
}
