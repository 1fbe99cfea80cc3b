/**
 * For the rollout tests: a gateway (in-process, PGlite) over the test's Redis with a hub node
 * running the edge and rollout actors, the membership job run at once (`rolloutMembershipMs: 0`),
 * an admin API key, and `call` to talk to its API as that admin. What it starts is pushed onto the
 * test's `cleanup` list (undone in reverse).
 */
import type { TestRedis } from '../../../infra/test-redis.ts';
import { createApiKey } from '../../auth.ts';
import { openDatabase } from '../../db/database.ts';
import { createGateway, type GatewayOptions } from '../../gateway.ts';

export type RolloutGatewayOptions = Omit<GatewayOptions, 'database' | 'bus'>;

/** An admin's request to the gateway's API; a JSON body when `body` is given. */
export type AdminRequest = (method: string, path: string, body?: unknown) => Promise<Response>;

/** The same, its answer read as JSON. */
export type AdminCall = (
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; body: Record<string, unknown> }>;

export async function startRolloutGateway(
  t: TestRedis,
  cleanup: (() => Promise<void>)[],
  options: RolloutGatewayOptions = {},
) {
  const keyspace = t.keyspace();
  const database = await openDatabase();
  cleanup.push(() => database.close());
  const hub = await t.hub(keyspace);
  cleanup.push(() => hub.stop());
  const gateway = await createGateway({
    database,
    bus: t.bus(keyspace, t.connect()),
    rolloutMembershipMs: 0,
    ...options,
  });
  cleanup.push(() => gateway.stop());
  const { key } = await createApiKey(database.db, { name: 'admin', scope: 'admin' });
  const request: AdminRequest = async (method, path, body) =>
    gateway.app.request(path, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const call: AdminCall = async (method, path, body) => {
    const res = await request(method, path, body);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { keyspace, database, hub, gateway, key, request, call };
}
