/**
 * A gateway: its fleet view, authenticator and app over a database and Redis, the outbox sink
 * (alarm history, tunnel states, the web-backend queues), web-backend delivery and the live event
 * feed; and serving it over HTTP or HTTPS (@hono/node-server) with the `/v1/events` WebSocket.
 * `createGateway` for in-process use (tests call `app.request`), `serveGateway` to listen.
 */
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import { createAdaptorServer, type ServerType } from '@hono/node-server';
import { type Logger, silentLogger } from '../actors/mod.ts';
import type { Bus } from '../bus/mod.ts';
import { ADMIN_USER, BrokerIdentities, DynsecClient } from '../edge/broker/mod.ts';
import { createApp } from './app.ts';
import { Authenticator, type AuthenticatorOptions } from './auth.ts';
import { BrokerReconciler } from './broker-reconciler.ts';
import { type EdgeCredentials, type IdentityOptions, startCredentials } from './credentials/mod.ts';
import { ensureAlarmPartitions } from './db/alarm-partitions.ts';
import type { Database, Db } from './db/database.ts';
import type { TunnelSettings } from './deps.ts';
import { eventsSocket, refuseUpgrade } from './events-socket.ts';
import { FleetView } from './fleet-view.ts';
import { type KafkaAdminOptions, startKafkaCredentials } from './kafka-credentials.ts';
import { EventFeed } from './live-events.ts';
import { recordAlarms } from './outbox/records.ts';
import { OutboxSink } from './outbox/sink.ts';
import { type WebBackendOptions, WebBackendOutbox } from './outbox/web-backend.ts';
import { type GatewayTls, readTlsFiles, tlsFront } from './tls-listener.ts';
import {
  DEFAULT_TUNNEL_SETTINGS,
  recordTunnels,
  type TerminalDeps,
  terminalPath,
  terminalSocket,
} from './tunnels/mod.ts';

export interface GatewayOptions {
  readonly database: Database;
  /** The gateway's bus (its connection and keyspace); the caller closes its connection. */
  readonly bus: Bus;
  readonly logger?: Logger;
  readonly maxWaitSeconds?: number;
  /** Remote access: the port range and time limits (default DEFAULT_TUNNEL_SETTINGS). */
  readonly tunnels?: Partial<TunnelSettings>;
  /** Where fleet events go (none: they are recorded and streamed live, not queued). */
  readonly webBackend?: WebBackendOptions;
  /** This gateway's name in the cluster's leases (default `gateway-<pid>-<random>`). */
  readonly name?: string;
  /** Time to live of the sink's and delivery's leases (default 10 s; tests shorten it). */
  readonly leaseTtlMs?: number;
  /**
   * The MQTT broker's dynamic-security admin: registering, rotating and deregistering an edge
   * tell the broker before answering, and a reconciler keeps it in line with the registry (none:
   * the broker's identities are managed elsewhere).
   */
  readonly broker?: BrokerAdminOptions;
  /** Trusted proxies (X-Forwarded-For) and the failed-login limit per address. */
  readonly authentication?: Omit<AuthenticatorOptions, 'logger'>;
  /** The fleet CA and sealing key (none: no certificates, no rotations through configuration). */
  readonly identity?: IdentityOptions;
  /**
   * An authenticated Kafka's admin: registering, rotating and deregistering an edge set its SCRAM
   * user before answering, like the broker's (none: edges' Kafka credentials are managed elsewhere).
   */
  readonly kafka?: KafkaAdminOptions;
}

export interface BrokerAdminOptions {
  /** mqtt://host:port */
  readonly url: string;
  /** Default ADMIN_USER (`admin@devicehub`). */
  readonly username?: string;
  readonly password: string;
  /** Link users the gateway creates if the broker lacks them (user → password). */
  readonly links?: Readonly<Record<string, string>>;
  /** Between reconciler passes (default 60 s; 0: none). */
  readonly reconcileMs?: number;
}

export interface Gateway extends AsyncDisposable {
  readonly app: ReturnType<typeof createApp>;
  readonly view: FleetView;
  readonly auth: Authenticator;
  readonly feed: EventFeed;
  readonly sink: OutboxSink;
  readonly webBackend: WebBackendOutbox | undefined;
  readonly log: Logger;
  /** The broker reconciler, when the gateway manages the broker's identities. */
  readonly reconciler: BrokerReconciler | undefined;
  /** Edge certificates and rotations, when the gateway has a fleet CA. */
  readonly credentials: EdgeCredentials | undefined;
  /** What the browser terminals (`serveGateway`) work with. */
  readonly terminalDeps: TerminalDeps;
  stop(): Promise<void>;
}

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const log = (options.logger ?? silentLogger).child({ component: 'gateway' });
  const { bus } = options;
  const db = options.database.db;
  const name = options.name ?? `gateway-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const partitions = await keepAlarmPartitions(db, log);
  const auth = new Authenticator(db, { ...options.authentication, logger: log });
  const view = await new FleetView({
    db,
    bus,
    logger: log,
    // Credentials changed somewhere in the cluster: look them up afresh.
    onChange: (what) => {
      if (what.startsWith('edge/') || what.startsWith('api-key/')) auth.forget();
    },
  }).start();
  const { webBackend, sink } = startOutbox(options, { db, bus, name, log });
  const feed = await new EventFeed({ bus, logger: log }).start();
  const { dynsec, broker, reconciler } = startBrokerAdmin(options.broker, { db, log });
  const kafka = options.kafka === undefined ? undefined : await startKafkaCredentials(options.kafka, log);
  const credentials =
    options.identity === undefined
      ? undefined
      : await startCredentials(options.identity, { db, view, auth, broker, kafka, logger: log });
  if (credentials !== undefined) auth.onNewSecret((id, secret) => credentials.rotations.confirm(id, secret));
  const tunnels = { ...DEFAULT_TUNNEL_SETTINGS, ...options.tunnels };
  const app = createApp({
    db,
    bus,
    view,
    auth,
    log,
    maxWaitSeconds: options.maxWaitSeconds,
    tunnels,
    webBackend,
    ...(broker === undefined ? {} : { broker }),
    ...(kafka === undefined ? {} : { kafka }),
    ...(credentials === undefined ? {} : { credentials }),
  });
  const stop = async () => {
    clearInterval(partitions);
    await sink.stop();
    await webBackend?.stop();
    await feed.stop();
    await view.stop();
    await reconciler?.stop();
    await credentials?.[Symbol.asyncDispose]();
    await dynsec?.close();
    await kafka?.close();
  };
  const terminalDeps: TerminalDeps = { db, bus, auth, tunnels, log };
  return {
    app,
    view,
    auth,
    feed,
    sink,
    webBackend,
    log,
    reconciler,
    credentials,
    terminalDeps,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** This month's alarm partition and the next two now, then once a day; the timer to clear. */
async function keepAlarmPartitions(db: Db, log: Logger): Promise<NodeJS.Timeout> {
  await ensureAlarmPartitions(db);
  const partitions = setInterval(
    () => void ensureAlarmPartitions(db).catch((err) => log.warn({ err }, 'alarm partitions not created')),
    24 * 3600 * 1000,
  );
  partitions.unref();
  return partitions;
}

/** The outbox sink (alarm history, tunnel states) and, when configured, delivery to the web backend. */
function startOutbox(
  options: GatewayOptions,
  { db, bus, name, log }: { db: Db; bus: Bus; name: string; log: Logger },
): { webBackend: WebBackendOutbox | undefined; sink: OutboxSink } {
  const webBackend =
    options.webBackend === undefined
      ? undefined
      : new WebBackendOutbox(options.webBackend, {
          bus,
          holder: name,
          logger: log,
          leaseTtlMs: options.leaseTtlMs,
        }).startDelivery();
  const sink = new OutboxSink({
    bus,
    holder: name,
    logger: log,
    leaseTtlMs: options.leaseTtlMs,
    handlers: [
      recordAlarms(db),
      recordTunnels(db, bus),
      ...(webBackend === undefined ? [] : [webBackend.enqueue]),
    ],
  }).start();
  return { webBackend, sink };
}

/** The broker's dynamic-security admin, its edge identities and their reconciler (none without options). */
function startBrokerAdmin(options: BrokerAdminOptions | undefined, { db, log }: { db: Db; log: Logger }) {
  const dynsec =
    options === undefined
      ? undefined
      : new DynsecClient({
          url: options.url,
          username: options.username ?? ADMIN_USER,
          password: options.password,
          logger: log,
        });
  const broker = dynsec === undefined ? undefined : new BrokerIdentities(dynsec);
  const reconciler =
    broker === undefined
      ? undefined
      : new BrokerReconciler({
          db,
          identities: broker,
          intervalMs: options?.reconcileMs ?? 60_000,
          ...(options?.links === undefined ? {} : { links: options.links }),
          logger: log,
        }).start();
  return { dynsec, broker, reconciler };
}

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
  const server: ServerType =
    tls === undefined
      ? createAdaptorServer({ fetch: gateway.app.fetch })
      : createAdaptorServer({
          fetch: gateway.app.fetch,
          createServer: createHttpsServer,
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
  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    const terminal = terminalPath(path);
    const upgrade =
      path === '/v1/events'
        ? events.handle(req, socket, head)
        : terminal !== undefined
          ? terminals.handle({ req, socket, head, at: terminal })
          : Promise.resolve(
              refuseUpgrade(socket, { status: 404, code: 'NOT_FOUND', message: `No WebSocket at ${path}` }),
            );
    upgrade.catch((err) => {
      gateway.log.warn({ err, path }, 'WebSocket upgrade failed');
      socket.destroy();
    });
  });
  const close = () =>
    new Promise<void>((resolve) => {
      events.close();
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
