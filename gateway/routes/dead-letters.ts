/**
 * What an edge sends wrong, for operators: `GET /v1/dead-letters` lists dead letters newest first
 * (the reason and its code, when, where the message came from, a bounded excerpt of the payload
 * with its full length and SHA-256), a page at a time with a cursor, and with `edge=<id>` that
 * edge's only, with its count — every message the links refused from it, stored or only counted
 * over its byte budget.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { type DeadLetter, deadLetterCount, pageDeadLetters } from '../../bus/mod.ts';
import { type AuthEnv, requireAuth } from '../auth.ts';
import type { GatewayDeps } from '../deps.ts';
import { AUTH_ERRORS, EdgeIdParam, json } from './schemas.ts';

const DeadLetterSchema = z
  .object({
    id: z.string().openapi({ description: 'Its id in the dead-letter stream (a cursor)' }),
    at: z.number().openapi({ description: 'When it was dead-lettered (ms since the epoch)' }),
    edgeId: z.string().nullable().openapi({ description: 'The edge it came from, when it names one' }),
    address: z.string().openapi({ description: 'The actor it was for (empty when none)' }),
    source: z.string().openapi({ description: 'The topic it came on, or the handler method' }),
    code: z.string().openapi({ description: 'The error code (device messages), empty otherwise' }),
    reason: z.string(),
    by: z.string().openapi({ description: 'The link or hub node that gave up on it' }),
    excerpt: z.object({
      encoding: z.enum(['base64', 'text']),
      data: z
        .string()
        .openapi({ description: 'The payload’s first 256 bytes (base64) or characters (text)' }),
      bytes: z.number().int().openapi({ description: 'The whole payload’s length in bytes' }),
      sha256: z.string().openapi({ description: 'SHA-256 of the whole payload, hex (empty when none)' }),
    }),
  })
  .openapi('DeadLetter');

const STREAM_ID = /^\d{1,20}-\d{1,20}$/;
const MAX_U64 = 2n ** 64n - 1n;
/** A Redis stream id: two unsigned 64-bit integers (Redis refuses anything beyond). */
const isStreamId = (s: string) => STREAM_ID.test(s) && s.split('-').every((n) => BigInt(n) <= MAX_U64);

const list = createRoute({
  method: 'get',
  path: '/v1/dead-letters',
  summary: 'Dead letters, newest first: what edges sent that could not be taken, and why',
  request: {
    query: z.object({
      edge: EdgeIdParam.shape.id.optional().openapi({
        param: { name: 'edge', in: 'query' },
        description: 'Only this edge’s (and its count)',
      }),
      cursor: z
        .string()
        .refine(isStreamId, 'a cursor from an earlier page: <ms>-<seq>, each at most 2^64-1')
        .optional()
        .openapi({ description: 'The `next` of the previous page' }),
      limit: z.coerce.number().int().min(1).max(100).default(20),
    }),
  },
  responses: {
    200: json(
      z.object({
        edge: z.string().nullable(),
        count: z.number().int().nullable().openapi({
          description: 'Messages the links dead-lettered for the edge, stored or counted over its budget',
        }),
        deadLetters: z.array(DeadLetterSchema),
        next: z.string().nullable().openapi({
          description:
            'Cursor of the next (older) page; a page may hold fewer than `limit` (it scans a bounded span)',
        }),
      }),
      'A page of dead letters',
    ),
    ...AUTH_ERRORS,
  },
});

const finite = (n: number) => (Number.isFinite(n) ? n : 0);

function shape(letter: DeadLetter) {
  return {
    id: letter.id,
    at: finite(letter.at),
    edgeId: letter.address.startsWith('edge/') ? letter.address.slice(5) : null,
    address: letter.address,
    source: letter.method,
    code: letter.code,
    reason: letter.reason,
    by: letter.node,
    excerpt: {
      encoding: letter.encoding,
      data: letter.payload,
      bytes: finite(letter.bytes),
      sha256: letter.sha256,
    },
  };
}

export function deadLetterRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  app.use('/v1/dead-letters', requireAuth(deps.auth, 'operator'));
  const { bus } = deps;
  app.openapi(list, async (c) => {
    const { edge, cursor, limit } = c.req.valid('query');
    const [page, count] = await Promise.all([
      pageDeadLetters(bus, {
        limit,
        ...(edge === undefined ? {} : { edge }),
        ...(cursor === undefined ? {} : { cursor }),
      }),
      edge === undefined ? null : deadLetterCount(bus, edge),
    ]);
    return c.json(
      { edge: edge ?? null, count, deadLetters: page.letters.map(shape), next: page.next ?? null },
      200,
    );
  });
  return app;
}
