/**
 * `GET /v1/edges/{id}/verdicts`: an edge's second looks as its actor keeps them (issue 17) — the
 * newest requests and verdicts (newest first) with the model's labels, scores and boxes, the
 * index of the frame each verdict was made on (served by `GET /v1/edges/{id}/frames/{eventId}/{index}`),
 * how many wait for their verdict, the legacy alarm starts without frames, and the counts by verdict.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { RECOGNITION_CLASSES, VISION_VERDICTS } from '../../edge/protocol/mod.ts';
import type { AuthEnv } from '../auth.ts';
import type { GatewayDeps } from '../deps.ts';
import { readEdgeState } from '../edge-states.ts';
import { ApiError } from '../errors.ts';
import { isRegistered } from '../register-edges.ts';
import { AUTH_ERRORS, EdgeIdParam, ErrorSchema, json } from './schemas.ts';

const DetectionSchema = z
  .object({
    label: z.string().openapi({ example: 'motorcycle' }),
    score: z.number().openapi({ example: 0.87 }),
    box: z
      .array(z.number())
      .length(4)
      .openapi({
        description: '[x, y, w, h], fractions of the frame from its top left',
        example: [0.1, 0.2, 0.5, 0.6],
      }),
  })
  .openapi('Detection');

const VerdictSchema = z
  .object({
    eventId: z.string(),
    alarm: z.string(),
    since: z.number().openapi({ description: 'The alarm’s start (ms, the edge’s clock)' }),
    class: z.enum(RECOGNITION_CLASSES),
    frames: z.number().int(),
    requestedAt: z.number(),
    status: z.enum(['requested', ...VISION_VERDICTS]),
    outcome: z.enum(['forwarded', 'held', 'released', 'dropped']).openapi({
      description: 'The alarm: forwarded at once (annotated), held for its verdict, then released or dropped',
    }),
    reason: z.string().optional(),
    model: z.object({ name: z.string(), version: z.string() }).optional(),
    detections: z.array(DetectionSchema).optional(),
    frame: z
      .number()
      .int()
      .optional()
      .openapi({ description: 'The index of the frame the verdict was made on' }),
    queueMs: z.number().optional(),
    inferMs: z.number().optional(),
    at: z.number(),
  })
  .openapi('VisionVerdict');

const VerdictsSchema = z
  .object({
    verdicts: z.array(VerdictSchema),
    pending: z.number().int().openapi({ description: 'Requests waiting for their verdict' }),
    legacy: z.number().int().openapi({ description: 'Alarm starts of recognised kinds without frames' }),
    counts: z.record(z.string(), z.number().int()),
  })
  .openapi('VisionVerdicts');

const get = createRoute({
  method: 'get',
  path: '/v1/edges/{id}/verdicts',
  summary: 'The edge’s recent second looks (secondary image recognition) and their verdicts',
  request: { params: EdgeIdParam },
  responses: {
    200: json(VerdictsSchema, 'Newest first'),
    ...AUTH_ERRORS,
    404: json(ErrorSchema, 'No such edge'),
  },
});

export function edgeVerdictRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  app.openapi(get, async (c) => {
    const { id } = c.req.valid('param');
    if (!(await isRegistered(deps.db, id))) throw new ApiError('NOT_FOUND', `No edge ${id}`);
    const vision = (await readEdgeState(deps.bus, id))?.vision;
    return c.json(
      {
        verdicts: [...(vision?.recent ?? [])]
          .reverse()
          .map((r) => ({ ...r, detections: r.detections?.map((d) => ({ ...d, box: [...d.box] })) })),
        pending: Object.keys(vision?.pending ?? {}).length,
        legacy: vision?.legacy ?? 0,
        counts: { ...vision?.counts },
      },
      200,
    );
  });
  return app;
}
