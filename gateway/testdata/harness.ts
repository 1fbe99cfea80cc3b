/**
 * For the gateway's in-process tests (`app.request`): each case runs once over embedded PGlite and
 * once over a real PostgreSQL server, each test with its own database, keyspace, gateway and API
 * keys of every scope.
 */
import { after, before } from 'node:test';
import { type PostgresServer, startPostgres } from '../../infra/mod.ts';
import type { TestRedis } from '../../infra/test-redis.ts';
import { createApiKey } from '../auth.ts';
import { type Database, openDatabase } from '../db/database.ts';
import { createGateway, type Gateway } from '../gateway.ts';

/** Each case runs once over each: embedded PGlite, then a real PostgreSQL server. */
export const DATABASES = ['pglite', 'postgres'] as const;
export type GatewayDatabase = (typeof DATABASES)[number];

export type Keys = Record<'service' | 'operator' | 'admin', string>;

export interface CallOptions {
  key?: string;
  auth?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** An edge's HTTP Basic credentials. */
export const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** Call at the top of a test file, after `useRedis()`: closes the databases after the file. */
export function useGatewayHarness(t: TestRedis) {
  /** Each test's own database: a fresh PGlite in memory, or a fresh database on the server. */
  const databases: Database[] = [];
  let server: PostgresServer | undefined;
  let driver: GatewayDatabase = 'pglite';
  after(async () => {
    for (const d of databases) await d.close();
    await server?.stop();
  });
  let counter = 0;
  async function freshDatabase(): Promise<Database> {
    if (driver === 'pglite') return await openDatabase();
    server ??= await startPostgres();
    return await openDatabase({ url: await server.createDatabase(`gw_${process.pid}_${++counter}`) });
  }

  async function setup() {
    const keyspace = t.keyspace();
    const database = await freshDatabase();
    databases.push(database);
    const gateway = await createGateway({ database, bus: t.bus(keyspace, t.connect()), maxWaitSeconds: 10 });
    const keys = {} as Keys;
    for (const scope of ['service', 'operator', 'admin'] as const)
      keys[scope] = (await createApiKey(database.db, { name: `${scope}-${keyspace.prefix}`, scope })).key;
    const call = (method: string, path: string, o: CallOptions = {}) =>
      gateway.app.request(path, {
        method,
        headers: {
          ...(o.key ? { authorization: `Bearer ${o.key}` } : {}),
          ...(o.auth ? { authorization: o.auth } : {}),
          ...(o.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...o.headers,
        },
        body: o.body === undefined ? undefined : JSON.stringify(o.body),
      });
    return { keyspace, gateway, keys, call, database };
  }

  return {
    /** Called first in a `describe`: its tests run over `which` database. */
    useDatabase(which: GatewayDatabase) {
      before(() => {
        driver = which;
      });
    },
    /** A gateway over the current database, stopped at the end of the test (`await using`). */
    async setupDisposable() {
      const s = await setup();
      return { ...s, [Symbol.asyncDispose]: () => (s.gateway as Gateway).stop() };
    },
  };
}
