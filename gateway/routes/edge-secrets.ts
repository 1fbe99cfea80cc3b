/**
 * An edge's credentials on the broker and Kafka: `tellBroker` (`tellKafka`) runs one step of
 * registration, rotation or deregistration against the MQTT broker (an authenticated Kafka's SCRAM
 * users) and turns "it did not confirm" into a 503 that says so; `POST /v1/edges/{id}/secret`
 * rotates an edge's secret (admin scope): the broker first — the old secret stops working there at
 * once and the sessions logged in with it are kicked — then Kafka, then the registry's hash; the
 * new secret is returned once.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { BrokerAdminError } from '../../edge/broker/mod.ts';
import { KafkaAuthError } from '../../edge/kafka-auth/mod.ts';
import { audit } from '../audit.ts';
import { type AuthEnv, actorOf, requireAuth } from '../auth.ts';
import { edges } from '../db/schema.ts';
import type { GatewayDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { hashSecret, newSecret } from '../secrets.ts';
import { AUTH_ERRORS, EdgeIdParam, ErrorSchema, json } from './schemas.ts';

/** The answer when the broker (or Kafka) could not be told: nothing was changed, the caller may retry. */
export const BROKER_UNAVAILABLE = {
  503: json(ErrorSchema, 'The MQTT broker or Kafka did not confirm the change; nothing was changed (retry)'),
} as const;

/** Runs `step` on the broker; a broker failure becomes an UNAVAILABLE API error naming `what`. */
export async function tellBroker(what: string, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (error) {
    if (!(error instanceof BrokerAdminError)) throw error;
    throw new ApiError(
      'UNAVAILABLE',
      `The MQTT broker did not confirm ${what} (${error.message}); nothing was changed, retry later`,
      { broker: error.code },
    );
  }
}

/**
 * Runs `step` on Kafka's credentials: a name Kafka may not hold is a 400, any other failure (Kafka
 * down, a refused change, the admin's own login refused) an UNAVAILABLE API error naming `what`.
 */
export async function tellKafka(what: string, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (error) {
    if (error instanceof KafkaAuthError && error.code === 'INVALID_USER')
      throw new ApiError('INVALID_REQUEST', `Kafka cannot hold ${what}: ${error.message}`, {
        kafka: error.code,
      });
    const reason = error instanceof Error ? error.message : String(error);
    throw new ApiError(
      'UNAVAILABLE',
      `Kafka did not confirm ${what} (${reason}); nothing was changed, retry later`,
      { kafka: error instanceof KafkaAuthError ? error.code : 'UNAVAILABLE' },
    );
  }
}

const rotate = createRoute({
  method: 'post',
  path: '/v1/edges/{id}/secret',
  summary:
    'Rotate an edge’s secret: the old one stops working at once (broker included); the new one is returned once',
  request: { params: EdgeIdParam },
  responses: {
    200: json(z.object({ id: z.string(), secret: z.string() }), 'The new secret'),
    404: json(ErrorSchema, 'No such edge'),
    ...BROKER_UNAVAILABLE,
    ...AUTH_ERRORS,
  },
});

export function edgeSecretRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  const { db, view } = deps;
  app.post('/v1/edges/:id/secret', requireAuth(deps.auth, 'admin'));
  app.openapi(rotate, async (c) => {
    const { id } = c.req.valid('param');
    const found = await db.select({ id: edges.id }).from(edges).where(eq(edges.id, id));
    if (found.length === 0) throw new ApiError('NOT_FOUND', `No edge ${id}`);
    const secret = newSecret('dhe');
    // ensureEdge, not setPassword: it also brings back an edge the broker had lost.
    if (deps.broker !== undefined) {
      const broker = deps.broker;
      await tellBroker(`edge ${id}'s new secret`, () => broker.ensureEdge(id, secret));
    }
    // ensureEdge too: a Kafka user the edge lacked is created with the new secret.
    const kafka = deps.kafka;
    if (kafka !== undefined) await tellKafka(`edge ${id}'s new secret`, () => kafka.ensureEdge(id, secret));
    const updated = await db
      .update(edges)
      .set({ secretHash: hashSecret(secret) })
      .where(eq(edges.id, id))
      .returning({ id: edges.id });
    if (updated.length === 0) throw new ApiError('NOT_FOUND', `No edge ${id}`);
    deps.auth.forget(id);
    await audit(db, {
      actor: actorOf(c.get('principal')),
      action: 'edge.rotate-secret',
      target: `edge/${id}`,
    });
    await view.changed(`edge/${id}`);
    return c.json({ id, secret }, 200);
  });
  return app;
}
