/**
 * Fleet state: register and deregister edges (the link's fleet check follows), list and read
 * them with their live shadow; their commands (`edge-commands.ts`) and secrets
 * (`edge-secrets.ts`) are mounted here, behind the same auth.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { and, asc, eq, gt } from 'drizzle-orm';
import { IdentityError } from '../../edge/identity/mod.ts';
import { deprovisionEdges, type EdgeState, provisionEdges } from '../../edge/mod.ts';
import { audit } from '../audit.ts';
import { type AuthEnv, actorOf, type Principal, requireAuth } from '../auth.ts';
import { edges } from '../db/schema.ts';
import type { GatewayDeps } from '../deps.ts';
import { readEdgeViews } from '../edge-states.ts';
import { ApiError } from '../errors.ts';
import { MAX_QUERY_LENGTH, parseQuery, searchFleet } from '../fleet-search/mod.ts';
import { isRegistered } from '../register-edges.ts';
import { hashSecret, newSecret } from '../secrets.ts';
import { edgeCommandRoutes } from './edge-commands.ts';
import { edgeLogLevelRoutes } from './edge-log-level.ts';
import { BROKER_UNAVAILABLE, edgeSecretRoutes, tellBroker, tellKafka } from './edge-secrets.ts';
import { edgeVerdictRoutes } from './edge-verdicts.ts';
import {
  AUTH_ERRORS,
  BODY_ERRORS,
  EdgeIdParam,
  ErrorSchema,
  ID_PATTERN,
  json,
  jsonBody,
  safeRecord,
  safeString,
} from './schemas.ts';

const EdgeSchema = z
  .object({
    id: z.string(),
    groupId: z.string().nullable(),
    labels: z.record(z.string(), z.string()),
    online: z.boolean(),
    lastSeen: z.number().nullable(),
    transport: z.string().nullable(),
    status: z.record(z.string(), z.unknown()).nullable(),
    birth: z.record(z.string(), z.unknown()).nullable(),
    health: z.record(z.string(), z.unknown()).nullable(),
    openAlarms: z.record(z.string(), z.unknown()),
    node: z.string().nullable(),
  })
  .openapi('Edge');

const NewEdge = z.object({
  id: EdgeIdParam.shape.id,
  groupId: safeString.regex(ID_PATTERN, 'a group id: 1–128 characters of [A-Za-z0-9_.:-]').optional(),
  labels: safeRecord(safeString.max(256)).optional(),
  csr: z
    .string()
    .max(16 * 1024)
    .optional()
    .openapi({ description: 'PKCS#10 PEM naming the edge: a certificate is issued to its key' }),
  certificate: z
    .boolean()
    .optional()
    .openapi({ description: 'Without a CSR: issue a certificate with a key made here (returned once)' }),
});

const Registered = z.object({
  id: z.string(),
  secret: z.string(),
  certificate: z
    .object({
      certificatePem: z.string(),
      caPem: z.string(),
      serial: z.string(),
      notAfter: z.string(),
      privateKeyPem: z.string().optional(),
    })
    .optional(),
});

const list = createRoute({
  method: 'get',
  path: '/v1/edges',
  summary: 'List edges with their live state',
  request: {
    query: z.object({
      limit: z.coerce.number().int().min(1).max(500).default(100),
      after: safeString.max(128).optional().openapi({ description: 'The last id of the previous page' }),
      group: safeString.max(128).optional(),
      q: safeString.max(MAX_QUERY_LENGTH).optional().openapi({
        description:
          'Fleet filter, terms ANDed: group=…, id=E-*, hardware=…, online=true, label.<key>=…, installed.<name><2.1.0, shadow.<kind>.<field>>=…; a page may hold fewer than limit matches while next is set',
        example: 'label.building=B12 installed.elenet<2.1.0',
      }),
    }),
  },
  responses: {
    200: json(z.object({ edges: z.array(EdgeSchema), next: z.string().nullable() }), 'A page of edges'),
    ...AUTH_ERRORS,
    400: json(ErrorSchema, 'Not valid; a query that cannot be read has details.position and reason'),
  },
});

const get = createRoute({
  method: 'get',
  path: '/v1/edges/{id}',
  summary: 'One edge with its live state',
  request: { params: EdgeIdParam },
  responses: { 200: json(EdgeSchema, 'The edge'), 404: json(ErrorSchema, 'No such edge'), ...AUTH_ERRORS },
});

const register = createRoute({
  method: 'post',
  path: '/v1/edges',
  summary: 'Register an edge; its secret is returned once',
  request: { body: jsonBody(NewEdge) },
  responses: {
    201: json(Registered, 'Registered'),
    409: json(ErrorSchema, 'Already registered'),
    ...BROKER_UNAVAILABLE,
    ...BODY_ERRORS,
  },
});

const deregister = createRoute({
  method: 'delete',
  path: '/v1/edges/{id}',
  summary: 'Deregister an edge (the broker cuts it off; its messages are refused from then on)',
  request: { params: EdgeIdParam },
  responses: {
    204: { description: 'Deregistered' },
    404: json(ErrorSchema, 'No such edge'),
    ...BROKER_UNAVAILABLE,
    ...AUTH_ERRORS,
  },
});

export function edgeRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  const { db, bus } = deps;
  const shape = async (
    rows: (typeof edges.$inferSelect)[],
    states?: ReadonlyMap<string, EdgeState | undefined>,
  ) => {
    const views = await readEdgeViews(
      bus,
      rows.map((r) => r.id),
      states,
    );
    return rows.map((r) => ({ id: r.id, groupId: r.groupId, labels: r.labels, ...views.get(r.id)! }));
  };

  app.use('/v1/edges', requireAuth(deps.auth, 'service'));
  app.use('/v1/edges/*', requireAuth(deps.auth, 'service'));
  // Changing the fleet itself is for operators.
  app.post('/v1/edges', requireAuth(deps.auth, 'operator'));
  app.delete('/v1/edges/:id', requireAuth(deps.auth, 'operator'));

  app.route('/', edgeSecretRoutes(deps));
  app.route('/', edgeVerdictRoutes(deps));
  app.route('/', edgeLogLevelRoutes(deps));

  app.openapi(list, async (c) => {
    const { limit, after, group, q } = c.req.valid('query');
    if (q !== undefined) {
      const query = parseQuery(group === undefined ? q : `group=${JSON.stringify(group)} ${q}`);
      const page = await searchFleet(deps, query, { limit, ...(after === undefined ? {} : { after }) });
      // The search read each match's actor state already: the page's views reuse them.
      const states = new Map(page.matches.map((m) => [m.row.id, m.state]));
      return c.json(
        {
          edges: await shape(
            page.matches.map((m) => m.row),
            states,
          ),
          next: page.next,
        },
        200,
      );
    }
    const rows = await db
      .select()
      .from(edges)
      .where(and(after ? gt(edges.id, after) : undefined, group ? eq(edges.groupId, group) : undefined))
      .orderBy(asc(edges.id))
      .limit(limit);
    const next = rows.length === limit ? rows[rows.length - 1]!.id : null;
    return c.json({ edges: await shape(rows), next }, 200);
  });

  app.openapi(get, async (c) => {
    const { id } = c.req.valid('param');
    const rows = await db.select().from(edges).where(eq(edges.id, id));
    if (rows.length === 0) throw new ApiError('NOT_FOUND', `No edge ${id}`);
    return c.json((await shape(rows))[0]!, 200);
  });

  app.openapi(register, async (c) =>
    c.json(await registerEdge(deps, c.get('principal'), c.req.valid('json')), 201),
  );

  app.openapi(deregister, async (c) => {
    await deregisterEdge(deps, c.get('principal'), c.req.valid('param').id);
    return c.body(null, 204);
  });

  app.route('/', edgeCommandRoutes(deps));

  return app;
}

/** A new edge: its row, its identity on the broker (before 201), the fleet set; its secret, once. */
async function registerEdge(
  deps: GatewayDeps,
  principal: Principal,
  body: z.infer<typeof NewEdge>,
): Promise<z.infer<typeof Registered>> {
  const { db, bus, view } = deps;
  const wantsCertificate = body.csr !== undefined || body.certificate === true;
  if (wantsCertificate && deps.credentials === undefined)
    throw new ApiError('UNAVAILABLE', 'This gateway has no fleet CA: start it with --identity-dir');
  const secret = newSecret('dhe');
  const inserted = await db
    .insert(edges)
    .values({
      id: body.id,
      groupId: body.groupId ?? null,
      labels: body.labels ?? {},
      secretHash: hashSecret(secret),
    })
    .onConflictDoNothing()
    .returning({ id: edges.id });
  if (inserted.length === 0) throw new ApiError('CONFLICT', `Edge ${body.id} is already registered`);
  // The broker takes the edge before 201, so it can connect at once; if it cannot, nothing stays.
  const broker = deps.broker;
  if (broker !== undefined) {
    await tellBroker(`edge ${body.id}'s identity`, () => broker.ensureEdge(body.id, secret)).catch(
      async (error: unknown) => {
        await db.delete(edges).where(eq(edges.id, body.id));
        throw error;
      },
    );
  }
  // Kafka's SCRAM user likewise (an authenticated Kafka); if it cannot be made, nothing stays.
  const kafka = deps.kafka;
  if (kafka !== undefined) {
    await tellKafka(`edge ${body.id}'s credential`, () => kafka.ensureEdge(body.id, secret)).catch(
      async (error: unknown) => {
        await deps.broker?.removeEdge(body.id).catch(() => {});
        await kafka.removeEdge(body.id).catch(() => {});
        await db.delete(edges).where(eq(edges.id, body.id));
        throw error;
      },
    );
  }
  const certificate = wantsCertificate ? await issueAtRegistration(deps, body.id, body.csr) : undefined;
  await provisionEdges(bus, [body.id]);
  await audit(db, {
    actor: actorOf(principal),
    action: 'edge.register',
    target: `edge/${body.id}`,
    details: { groupId: body.groupId },
  });
  await view.changed(`edge/${body.id}`);
  return { id: body.id, secret, ...(certificate === undefined ? {} : { certificate }) };
}

/** The edge's first certificate; a refused CSR undoes the registration (nothing half-made stays). */
async function issueAtRegistration(deps: GatewayDeps, id: string, csr: string | undefined) {
  const certificates = deps.credentials!.certificates;
  try {
    const issued = await certificates.issue(id, csr);
    return {
      certificatePem: issued.certificatePem,
      caPem: certificates.ca.certificatePem,
      serial: issued.serial,
      notAfter: issued.notAfter.toISOString(),
      ...(issued.privateKeyPem === undefined ? {} : { privateKeyPem: issued.privateKeyPem }),
    };
  } catch (error) {
    await deps.broker?.removeEdge(id).catch(() => {});
    await deps.kafka?.removeEdge(id).catch(() => {});
    await deps.db.delete(edges).where(eq(edges.id, id));
    if (error instanceof IdentityError)
      throw new ApiError('INVALID_REQUEST', `Not registered: ${error.message}`, { identity: error.code });
    throw error;
  }
}

/** The broker first (it kicks the edge), Kafka, then the row, the fleet set and the caches. */
async function deregisterEdge(deps: GatewayDeps, principal: Principal, id: string): Promise<void> {
  const { db, bus, view } = deps;
  // The broker first (it kicks the edge), then Kafka: one that cannot be told leaves the edge
  // registered (both removals are idempotent: the operator's retry finishes the job).
  const { broker, kafka } = deps;
  if ((broker !== undefined || kafka !== undefined) && !(await isRegistered(db, id)))
    throw new ApiError('NOT_FOUND', `No edge ${id}`);
  if (broker !== undefined) await tellBroker(`the removal of edge ${id}`, () => broker.removeEdge(id));
  if (kafka !== undefined) await tellKafka(`the removal of edge ${id}`, () => kafka.removeEdge(id));
  const deleted = await db.delete(edges).where(eq(edges.id, id)).returning({ id: edges.id });
  if (deleted.length === 0) throw new ApiError('NOT_FOUND', `No edge ${id}`);
  await deprovisionEdges(bus, [id]);
  // Its certificates go on the CRL (the broker already refuses the identity: it was removed above).
  const revoked = (await deps.credentials?.certificates.revoke(id, 'cessationOfOperation')) ?? 0;
  deps.auth.forget(id);
  await audit(db, {
    actor: actorOf(principal),
    action: 'edge.deregister',
    target: `edge/${id}`,
    ...(revoked > 0 ? { details: { certificatesRevoked: revoked } } : {}),
  });
  await view.changed(`edge/${id}`);
}
