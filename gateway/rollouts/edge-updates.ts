/**
 * `GET /v1/edges/{id}/updates`: what an edge runs and went through, from its actor's state — the
 * installed version of each package (with the rollout that brought it), its current assignment
 * and the update history (newest first, bounded by the actor).
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { type AuthEnv, requireAuth } from '../auth.ts';
import { edges } from '../db/schema.ts';
import type { GatewayDeps } from '../deps.ts';
import { readEdgeState } from '../edge-states.ts';
import { ApiError } from '../errors.ts';
import { AUTH_ERRORS, EdgeIdParam, ErrorSchema, json } from '../routes/schemas.ts';

const Installed = z.object({
  version: z.string(),
  rollout: z.string().nullable(),
  at: z.number().nullable(),
  path: z.string().nullable(),
});

const EdgeUpdates = z
  .object({
    installed: z.record(z.string(), Installed),
    assigned: z
      .object({
        rollout: z.string(),
        wave: z.number(),
        attempt: z.number(),
        state: z.string(),
        delivery: z.string(),
        at: z.number(),
        configVersion: z.number().nullable(),
        rollback: z.boolean(),
        reason: z.string().nullable(),
      })
      .nullable(),
    history: z.array(
      z.object({
        rollout: z.string(),
        name: z.string(),
        version: z.string(),
        state: z.string(),
        at: z.number(),
        reason: z.string().nullable(),
      }),
    ),
  })
  .openapi('EdgeUpdates');

const route = createRoute({
  method: 'get',
  path: '/v1/edges/{id}/updates',
  summary: 'An edge’s installed versions, current rollout assignment and update history',
  request: { params: EdgeIdParam },
  responses: {
    200: json(EdgeUpdates, 'The edge’s updates'),
    404: json(ErrorSchema, 'No such edge'),
    ...AUTH_ERRORS,
  },
});

export function edgeUpdateRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  app.use('/v1/edges/:id/updates', requireAuth(deps.auth, 'service'));
  app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const [row] = await deps.db.select({ id: edges.id }).from(edges).where(eq(edges.id, id));
    if (row === undefined) throw new ApiError('NOT_FOUND', `No edge ${id}`);
    const updates = (await readEdgeState(deps.bus, id))?.updates;
    const installed = Object.fromEntries(
      Object.entries(updates?.installed ?? {}).map(([name, p]) => [
        name,
        { version: p.version, rollout: p.rollout ?? null, at: p.at ?? null, path: p.path ?? null },
      ]),
    );
    const a = updates?.assigned;
    return c.json(
      {
        installed,
        assigned:
          a === undefined
            ? null
            : {
                rollout: a.rollout,
                wave: a.wave,
                attempt: a.attempt,
                state: a.state,
                delivery: a.delivery,
                at: a.at,
                configVersion: a.configVersion ?? null,
                rollback: a.rollback ?? false,
                reason: a.reason ?? null,
              },
        history: [...(updates?.history ?? [])]
          .sort((x, y) => y.at - x.at)
          .map((h) => ({ ...h, version: String(h.version), reason: h.reason ?? null })),
      },
      200,
    );
  });
  return app;
}
