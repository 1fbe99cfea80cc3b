/**
 * `/v1/rollouts`: create (admin), list and read (any key; a rollout's waves with their progress
 * and the health comparison read from its actor's state), and the operator's levers — pause
 * (operators: whoever sees trouble may stop it), resume, abort and roll back (admins). A lever is
 * a message to `rollout/<id>` (202: the actor applies it within its next turn); one the
 * rollout's status cannot take is a 409.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { RolloutStatus } from '../../edge/rollout/mod.ts';
import type { ArtifactCatalog } from '../artifacts/mod.ts';
import { audit } from '../audit.ts';
import { type AuthEnv, actorOf, requireAuth } from '../auth.ts';
import type { ArtifactKind } from '../db/schema.ts';
import type { GatewayDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { AUTH_ERRORS, BODY_ERRORS, ErrorSchema, json, jsonBody } from '../routes/schemas.ts';
import { createRollout, type RolloutDeps } from './create.ts';
import { edgeUpdateRoutes } from './edge-updates.ts';
import { rolloutAddress } from './members-send.ts';
import { NewRollout, RolloutAction, RolloutIdParam, RolloutSchema } from './schemas.ts';
import { getRollout, listRollouts, recordStatus } from './store.ts';
import type { ArtifactFinder } from './targets.ts';
import { readRolloutState, rolloutView } from './view.ts';

export const ROLLOUT_ACTIONS = ['pause', 'resume', 'abort', 'rollback'] as const;
export type RolloutLever = (typeof ROLLOUT_ACTIONS)[number];

/** The statuses each lever may be pulled in. */
const ALLOWED: Record<RolloutLever, readonly RolloutStatus[]> = {
  pause: ['running'],
  resume: ['paused'],
  abort: ['running', 'paused'],
  rollback: ['running', 'paused', 'completed', 'aborted'],
};

const create = createRoute({
  method: 'post',
  path: '/v1/rollouts',
  summary: 'Start a rollout: a target (packages or a configuration version) to a dynamic group, in waves',
  request: { body: jsonBody(NewRollout) },
  responses: {
    201: json(RolloutSchema, 'Created; the actor admits the first wave'),
    409: json(ErrorSchema, 'A rollout with this id exists, or the configuration moved on'),
    412: json(ErrorSchema, 'Someone wrote another configuration version meanwhile (nothing was created)'),
    503: json(ErrorSchema, 'No artifact catalog to find the packages in'),
    ...BODY_ERRORS,
  },
});

const list = createRoute({
  method: 'get',
  path: '/v1/rollouts',
  summary: 'Rollouts, newest first, with their live state',
  request: {
    query: z.object({
      limit: z.coerce.number().int().min(1).max(200).default(50),
      active: z.enum(['true', 'false']).optional().openapi({ description: 'true: only those not finished' }),
    }),
  },
  responses: { 200: json(z.object({ rollouts: z.array(RolloutSchema) }), 'Rollouts'), ...AUTH_ERRORS },
});

const get = createRoute({
  method: 'get',
  path: '/v1/rollouts/{id}',
  summary: 'A rollout: its waves’ progress, counts and the health comparison',
  request: { params: RolloutIdParam },
  responses: {
    200: json(RolloutSchema, 'The rollout'),
    404: json(ErrorSchema, 'No such rollout'),
    ...AUTH_ERRORS,
  },
});

const lever = (action: RolloutLever, summary: string) =>
  createRoute({
    method: 'post',
    path: `/v1/rollouts/{id}/${action}`,
    summary,
    request: {
      params: RolloutIdParam,
      body: { required: false, content: { 'application/json': { schema: RolloutAction } } },
    },
    responses: {
      202: json(RolloutSchema, 'Sent to the rollout (its state as it was before)'),
      404: json(ErrorSchema, 'No such rollout'),
      409: json(ErrorSchema, 'The rollout’s status does not take this'),
      ...BODY_ERRORS,
    },
  });

const LEVER_SUMMARY: Record<RolloutLever, string> = {
  pause: 'Pause: no new edges are started; those in flight finish',
  resume: 'Resume a paused rollout (the error threshold counts afresh)',
  abort: 'Abort: no more edges are started; updated edges keep their version',
  rollback: 'Roll back: updated edges return to the version before',
};

export function rolloutRoutes(deps: GatewayDeps & Pick<RolloutDeps, 'findArtifacts'>) {
  const app = new OpenAPIHono<AuthEnv>();
  const { db, bus } = deps;
  const findArtifacts = deps.findArtifacts ?? catalogFinder(deps.artifacts);
  app.use('/v1/rollouts', requireAuth(deps.auth, 'service'));
  app.use('/v1/rollouts/*', requireAuth(deps.auth, 'service'));
  app.post('/v1/rollouts', requireAuth(deps.auth, 'admin'));
  app.post('/v1/rollouts/:id/pause', requireAuth(deps.auth, 'operator'));
  for (const action of ['resume', 'abort', 'rollback'] as const)
    app.post(`/v1/rollouts/:id/${action}`, requireAuth(deps.auth, 'admin'));

  app.openapi(create, async (c) => {
    const row = await createRollout(
      { ...deps, ...(findArtifacts ? { findArtifacts } : {}) },
      actorOf(c.get('principal')),
      c.req.valid('json'),
    );
    return c.json(rolloutView(row, undefined), 201);
  });

  app.openapi(list, async (c) => {
    const { limit, active } = c.req.valid('query');
    const rows = await listRollouts(db, { limit, active: active === 'true' });
    const states = await Promise.all(rows.map((r) => readRolloutState(bus, r.id)));
    return c.json({ rollouts: rows.map((r, i) => rolloutView(r, states[i])) }, 200);
  });

  app.openapi(get, async (c) => {
    const { id } = c.req.valid('param');
    const row = await getRollout(db, id);
    if (row === undefined) throw new ApiError('NOT_FOUND', `No rollout ${id}`);
    const state = await readRolloutState(bus, id);
    if (state !== undefined && state.status !== row.status) await recordStatus(db, id, state.status);
    return c.json(rolloutView(row, state), 200);
  });

  app.route('/', edgeUpdateRoutes(deps));

  for (const action of ROLLOUT_ACTIONS)
    app.openapi(lever(action, LEVER_SUMMARY[action]), async (c) => {
      const { id } = c.req.valid('param');
      const row = await getRollout(db, id);
      if (row === undefined) throw new ApiError('NOT_FOUND', `No rollout ${id}`);
      const state = await readRolloutState(bus, id);
      const status = (state?.status ?? row.status) as RolloutStatus;
      if (!ALLOWED[action].includes(status))
        throw new ApiError('CONFLICT', `Rollout ${id} is ${status}: it cannot ${action}`, { status });
      const by = actorOf(c.get('principal'));
      const body = c.req.header('content-type')
        ? ((await c.req.json().catch(() => ({}))) as { reason?: unknown })
        : {};
      const reason = typeof body.reason === 'string' ? body.reason.slice(0, 500) : undefined;
      await bus.enqueue([
        { address: rolloutAddress(id), method: action, payload: { by, ...(reason ? { reason } : {}) } },
      ]);
      await audit(db, {
        actor: by,
        action: `rollout.${action}`,
        target: `rollout/${id}`,
        details: { status },
      });
      return c.json(rolloutView(row, state), 202);
    });

  return app;
}

/** Artifacts by name and version from the gateway's catalog (slice objects), when it has one. */
function catalogFinder(catalog: ArtifactCatalog | undefined): ArtifactFinder | undefined {
  if (catalog === undefined) return undefined;
  return async ({ kind, name, version }) =>
    (await catalog.list({ name, ...(kind === undefined ? {} : { kind: kind as ArtifactKind }) })).filter(
      (a) => a.version === version,
    );
}
