/**
 * A gateway: its fleet view, authenticator and app over a database and Redis, and serving it
 * over HTTP (@hono/node-server). `createGateway` for in-process use (tests call `app.request`),
 * `serveGateway` to listen.
 */
import { type ServerType, serve } from '@hono/node-server';
import { type Logger, silentLogger } from '../actors/mod.ts';
import type { Keyspace, Redis } from '../bus/mod.ts';
import { createApp } from './app.ts';
import { Authenticator } from './auth.ts';
import type { Database } from './db/database.ts';
import { FleetView } from './fleet-view.ts';

export interface GatewayOptions {
  readonly database: Database;
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly logger?: Logger;
  readonly maxWaitSeconds?: number;
}

export interface Gateway extends AsyncDisposable {
  readonly app: ReturnType<typeof createApp>;
  readonly view: FleetView;
  stop(): Promise<void>;
}

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const log = (options.logger ?? silentLogger).child({ component: 'gateway' });
  const db = options.database.db;
  const view = await new FleetView({
    db,
    redis: options.redis,
    keyspace: options.keyspace,
    logger: log,
  }).start();
  const app = createApp({
    db,
    redis: options.redis,
    keyspace: options.keyspace,
    view,
    auth: new Authenticator(db),
    log,
    maxWaitSeconds: options.maxWaitSeconds,
  });
  const stop = () => view.stop();
  return { app, view, stop, [Symbol.asyncDispose]: stop };
}

export interface ServedGateway extends AsyncDisposable {
  readonly url: string;
  close(): Promise<void>;
}

/** Listens on `port` (0: a free one) until closed. */
export async function serveGateway(
  gateway: Gateway,
  options: { port?: number; hostname?: string } = {},
): Promise<ServedGateway> {
  const hostname = options.hostname ?? '127.0.0.1';
  const { server, port } = await new Promise<{ server: ServerType; port: number }>((resolve, reject) => {
    const s = serve({ fetch: gateway.app.fetch, port: options.port ?? 0, hostname }, (info) =>
      resolve({ server: s, port: info.port }),
    );
    s.once('error', reject); // e.g. the port is taken
  });
  const close = () =>
    new Promise<void>((resolve) => {
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      server.close(() => resolve());
    });
  return { url: `http://${hostname}:${port}`, close, [Symbol.asyncDispose]: close };
}
