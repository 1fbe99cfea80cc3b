/**
 * Serving a gateway (`createGateway`) over HTTP or HTTPS (@hono/node-server) until closed, with
 * its WebSocket upgrades: `/v1/events` (the live event feed), the browser terminals and the wall
 * screens' feeds (`/v1/screens/{scope}/socket`); any other
 * upgrade is refused 404. Over HTTPS a plain-HTTP request is answered `400 HTTPS_REQUIRED`, and
 * the certificate can be read again without a restart.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import { createAdaptorServer, type ServerType } from '@hono/node-server';
import { eventsSocket, refuseUpgrade } from './events-socket.ts';
import type { Gateway } from './gateway.ts';
import { LOG_TAIL_PATH, logTailSocket } from './logs/mod.ts';
import { configNotModified } from './routes/config-not-modified.ts';
import { screenSnapshotFirst, screenSocket, screenSocketScope } from './screens/mod.ts';
import { type GatewayTls, readTlsFiles, tlsFront } from './tls-listener.ts';
import { terminalPath, terminalSocket } from './tunnels/mod.ts';

export interface ServedGateway extends AsyncDisposable {
  /** `http://host:port`, or `https://…` when serving TLS. */
  readonly url: string;
  /** Reads the certificate and key files again (no-op without TLS): new connections use them. */
  reloadTls(): Promise<void>;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** 0: a free one. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly hostname?: string;
  /**
   * Serve HTTPS with this certificate and key (files): WebSockets become wss, and a plain-HTTP
   * request to the port is answered `400 HTTPS_REQUIRED` without reaching the app.
   */
  readonly tls?: GatewayTls;
}

/** Listens on `port` (0: a free one) until closed; `/v1/events` upgrades to a WebSocket. */
export async function serveGateway(gateway: Gateway, options: ServeOptions = {}): Promise<ServedGateway> {
  const hostname = options.hostname ?? '127.0.0.1';
  const { tls } = options;
  // What nearly every request of a fleet is, answered before the app: configuration re-polls
  // (routes/config-not-modified.ts) and wall screens' snapshot polls (screens/snapshot-first.ts).
  const notModified = configNotModified({ auth: gateway.auth, view: gateway.view, gate: gateway.configGate });
  const snapshot = screenSnapshotFirst({ auth: gateway.auth, view: gateway.view, model: gateway.screens });
  const first = (req: IncomingMessage, res: ServerResponse) => notModified(req, res) || snapshot(req, res);
  const server: ServerType =
    tls === undefined
      ? createAdaptorServer({
          fetch: gateway.app.fetch,
          createServer: withFirst(createHttpServer, first),
        })
      : createAdaptorServer({
          fetch: gateway.app.fetch,
          createServer: withFirst(createHttpsServer, first),
          // A handshake left unfinished (a truncated ClientHello) is given up after 10 s, not 120.
          serverOptions: { ...(await readTlsFiles(tls)), minVersion: 'TLSv1.2', handshakeTimeout: 10_000 },
        });
  const https = server instanceof HttpsServer ? server : undefined;
  const listener = https === undefined ? server : tlsFront(https, gateway.log);
  const port = await new Promise<number>((resolve, reject) => {
    listener.once('error', reject); // e.g. the port is taken
    listener.listen(options.port ?? 0, hostname, () => {
      listener.off('error', reject);
      const address = listener.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
  const events = eventsSocket({ auth: gateway.auth, feed: gateway.feed, log: gateway.log });
  const terminals = terminalSocket(gateway.terminalDeps);
  const logTail = logTailSocket({ auth: gateway.auth, store: gateway.logs, log: gateway.log });
  const screens = screenSocket({
    auth: gateway.auth,
    view: gateway.view,
    model: gateway.screens,
    log: gateway.log,
  });
  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    const terminal = terminalPath(path);
    const screen = screenSocketScope(path);
    const upgrade =
      path === '/v1/events'
        ? events.handle(req, socket, head)
        : path === LOG_TAIL_PATH
          ? logTail.handle(req, socket, head)
          : terminal !== undefined
            ? terminals.handle({ req, socket, head, at: terminal })
            : screen !== undefined
              ? screens.handle(req, socket, head, screen)
              : Promise.resolve(
                  refuseUpgrade(socket, {
                    status: 404,
                    code: 'NOT_FOUND',
                    message: `No WebSocket at ${path}`,
                  }),
                );
    upgrade.catch((err) => {
      gateway.log.warn({ err, path }, 'WebSocket upgrade failed');
      socket.destroy();
    });
  });
  const close = () =>
    new Promise<void>((resolve) => {
      events.close();
      logTail.close();
      screens.close();
      terminals.close();
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      if (listener !== server) server.close();
      listener.close(() => resolve());
    });
  const reloadTls = async () => {
    if (tls === undefined || https === undefined) return;
    https.setSecureContext({ ...(await readTlsFiles(tls)), minVersion: 'TLSv1.2' });
    gateway.log.info({ certFile: tls.certFile }, 'TLS certificate reloaded');
  };
  const scheme = tls === undefined ? 'http' : 'https';
  const host = hostname.includes(':') ? `[${hostname}]` : hostname;
  return { url: `${scheme}://${host}:${port}`, reloadTls, close, [Symbol.asyncDispose]: close };
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** A server factory whose request listener lets `first` answer before the app (true: answered). */
function withFirst(
  create: typeof createHttpServer | typeof createHttpsServer,
  first: (req: IncomingMessage, res: ServerResponse) => boolean,
): typeof createHttpsServer {
  const make = create as (options: object, listener: Listener) => ReturnType<typeof createHttpServer>;
  return ((options: object, listener: Listener) =>
    make(options, (req, res) => {
      if (!first(req, res)) listener(req, res);
    })) as unknown as typeof createHttpsServer;
}
