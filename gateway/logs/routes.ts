/**
 * `GET /v1/logs` (operator): every process's and edge's log lines from the log store, newest
 * first, filtered by edge, service, level, time range and plain words, a page at a time. Without a
 * log store (DEVICEHUB_LOG_STORE unset), or with one that does not answer, it is a 503 saying so.
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { Logger } from '../../actors/mod.ts';
import { type LogStore, LogStoreError } from '../../logs/mod.ts';
import { type AuthEnv, requireAuth } from '../auth.ts';
import type { GatewayDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { AUTH_ERRORS, ErrorSchema, json } from '../routes/schemas.ts';
import { LogPageSchema, LogsQuery, storeQuery } from './schemas.ts';

export const NO_LOG_STORE =
  'No log store is configured (set DEVICEHUB_LOG_STORE, e.g. http://127.0.0.1:9428)';

const list = createRoute({
  method: 'get',
  path: '/v1/logs',
  summary: 'Log lines of every process and edge, newest first (edge, service, level, time range, words)',
  request: { query: LogsQuery },
  responses: {
    200: json(LogPageSchema, 'A page of log lines'),
    ...AUTH_ERRORS,
    503: json(ErrorSchema, 'No log store is configured, or it does not answer'),
  },
});

/** The store's refusal as the API's: its failures are a 503 with the reason, a bad query a 400. */
function storeFailure(err: unknown, log: Logger): ApiError {
  if (err instanceof LogStoreError && err.code === 'BAD_QUERY')
    return new ApiError('INVALID_REQUEST', `The log store refused the query: ${err.message}`);
  if (err instanceof LogStoreError) {
    log.warn({ err, code: err.code }, 'log store unavailable');
    return new ApiError('UNAVAILABLE', `The log store is unavailable: ${err.message}`);
  }
  throw err;
}

/** The log store, or a 503 saying none is configured. */
function requireStore(store: LogStore | undefined): LogStore {
  if (store === undefined) throw new ApiError('UNAVAILABLE', NO_LOG_STORE);
  return store;
}

export function logRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  app.use('/v1/logs', requireAuth(deps.auth, 'operator'));

  app.openapi(list, async (c) => {
    const store = requireStore(deps.logs);
    const query = storeQuery(c.req.valid('query'));
    const page = await store.query(query, c.req.raw.signal).catch((err: unknown) => {
      throw storeFailure(err, deps.log);
    });
    return c.json({ from: query.from, to: query.to, records: page.records, next: page.next ?? null }, 200);
  });
  return app;
}
