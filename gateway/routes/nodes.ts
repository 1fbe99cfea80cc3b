/** The hub nodes as they report themselves (every second, into Redis): shards, actors, load. */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { readNodeStats } from '../../actors/mod.ts';
import { type AuthEnv, requireAuth } from '../auth.ts';
import type { GatewayDeps } from '../deps.ts';
import { AUTH_ERRORS, json } from './schemas.ts';

const NodeSchema = z
  .object({
    node: z.string(),
    pid: z.number(),
    at: z.number().openapi({ description: 'When it last reported (ms)' }),
    shards: z.number(),
    actors: z.number(),
    handled: z.number(),
    deadLettered: z.number(),
    rssBytes: z.number(),
  })
  .openapi('HubNode');

const list = createRoute({
  method: 'get',
  path: '/v1/nodes',
  summary: 'Hub nodes with their shards, actors and load',
  responses: { 200: json(z.object({ nodes: z.array(NodeSchema) }), 'The nodes'), ...AUTH_ERRORS },
});

export function nodeRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  app.use('/v1/nodes', requireAuth(deps.auth, 'service'));
  app.openapi(list, async (c) => {
    const nodes = (await readNodeStats(deps.bus)).map((n) => ({
      node: n.node,
      pid: n.pid,
      at: n.at,
      shards: n.shards,
      actors: n.actors,
      handled: n.handled,
      deadLettered: n.deadLettered,
      rssBytes: n.rssBytes,
    }));
    return c.json({ nodes }, 200);
  });
  return app;
}
