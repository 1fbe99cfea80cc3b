/**
 * `devicehub gateway`: the HTTP API (stateless: run as many as you like behind a balancer);
 * `devicehub gateway create-key --name N --scope admin`: an API key, printed once (the first
 * admin key comes from here; later ones from `POST /v1/api-keys`).
 */
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { connectRedis } from '../bus/mod.ts';
import { DEFAULT_MAX_FRAME_BYTES } from '../gateway/frames/mod.ts';
import { DEFAULT_LOGIN_BURST, DEFAULT_LOGIN_PER_SECOND } from '../gateway/login-limiter.ts';
import {
  API_SCOPES,
  type ApiScope,
  createApiKey,
  createGateway,
  type Database,
  DEFAULT_MAX_ARTIFACT_BYTES,
  type GatewayOptions,
  openDatabase,
  serveGateway,
} from '../gateway/mod.ts';
import { runPrimary, workerMetrics } from '../gateway/workers/mod.ts';
import { openLogStore } from '../logs/mod.ts';
import { openObjectStore } from '../objects/mod.ts';
import { clusterConfig, clusterFlags, intFlag, openClusterBus } from './config.ts';
import { CLIP_LINK_FLAGS, clipLinkOptions, clipLinksHelp } from './gateway-clip-links.ts';
import { gatewayFlagOptions, gatewayTls } from './gateway-flags.ts';
import { MONITORING_FLAGS, monitoringHelp, monitoringOptions } from './gateway-monitoring.ts';
import { processLogger } from './logger.ts';
import { stopOnSignals } from './shutdown.ts';

/** Longest graceful stop of a gateway process. */
const GATEWAY_STOP_MS = 10_000;

export const gatewayHelp = `devicehub gateway [options]              the HTTP API (/v1/docs lists it)
devicehub gateway create-key --name N --scope service|operator|admin [--expires-in-days D]

  --redis URL          Redis URL (env REDIS_URL; required)      --prefix P (env DH_PREFIX; default dh)
  --port N             (env PORT; default 8080)   --host H (env HOST; default 127.0.0.1)
  --workers N          gateway processes sharing the port, one per core (env DH_GATEWAY_WORKERS;
                       default: the cores with --database-url, 1 with embedded PGlite; 1: one process)
  --tls-cert FILE      serve HTTPS with this certificate, PEM (env DH_GATEWAY_TLS_CERT); plain HTTP
                       to the port is then refused (400 HTTPS_REQUIRED); SIGHUP reloads it
  --tls-key FILE       its private key, PEM (env DH_GATEWAY_TLS_KEY)
  --database-url URL   PostgreSQL (env DATABASE_URL); without it, embedded PGlite in --data-dir
  --data-dir DIR       (env DH_DATA_DIR; default ./.devicehub/pglite)
  --database-replica-url URL  a streaming read replica of it (env DATABASE_REPLICA_URL): alarm, audit,
                       tunnel and clip history read there unless the caller just wrote or it is down or
                       lags too far; unset: every read on the primary
  --replica-max-lag-ms MS  the lag past which reads leave the replica (env DH_REPLICA_MAX_LAG_MS; 2000)
  --object-store URL   where artifacts are kept (env DH_OBJECT_STORE; default file://$PWD/.devicehub/objects):
                       file:///abs/dir, or s3://bucket?endpoint=http://host:port&region=R&forcePathStyle=1
                       (S3Proxy, MinIO; Aliyun OSS: endpoint=https://oss-cn-hangzhou.aliyuncs.com,
                       region=oss-cn-hangzhou, no forcePathStyle); keys from env AWS_ACCESS_KEY_ID and
                       AWS_SECRET_ACCESS_KEY, never a flag
  --max-artifact-bytes N   the largest artifact upload (env DH_MAX_ARTIFACT_BYTES; 2147483648)
  --max-frame-bytes N      the largest vision frame an edge uploads (env DH_MAX_FRAME_BYTES; 2097152)
  the log store            what GET /v1/logs and /v1/logs/tail read: env DEVICEHUB_LOG_STORE only
                           (VictoriaLogs: http://host:9428; unset: they answer 503)
  --trusted-proxies LIST   proxies whose X-Forwarded-For names the client (failed-login limits
                           count per client): addresses or CIDR ranges, comma-separated
                           (env DH_TRUSTED_PROXIES; none: the peer is the client)
  --web-backend-url URL    where fleet events are POSTed (env DH_WEB_BACKEND_URL; none: not queued)
  --web-backend-token T    sent as Bearer to the web backend (env DH_WEB_BACKEND_TOKEN)
  --web-backend-partitions N  delivery queues, fixed per cluster (env DH_WEB_BACKEND_PARTITIONS; 16)
  --web-backend-rate N     events/s to the web backend (env DH_WEB_BACKEND_RATE; 1000)
  --tunnel-ports LOW-HIGH  remote ports for tunnels (env DH_TUNNEL_PORTS; 20000-20999)
  --tunnel-host H          the tunnel server's public name (env DH_TUNNEL_HOST; 127.0.0.1)
  --tunnel-server H:P      the frps address edges dial (env DH_TUNNEL_SERVER)
  --tunnel-max-ttl S       longest tunnel, seconds (env DH_TUNNEL_MAX_TTL; 14400)
  --tunnel-mux PORT:DOMAIN multiplexed tunnels: frps's HTTP CONNECT port and the domain tunnel names
                           end in; no remote port per tunnel (env DH_TUNNEL_MUX)
  --tunnel-secret-file F   key each multiplexed tunnel's secret is derived from, the same on every
                           gateway (env DH_TUNNEL_SECRET_FILE; none: this process's own random key)
  --tunnel-ssh-key FILE    the gateway's private key edges authorise: browser terminals (env DH_TUNNEL_SSH_KEY)
  --tunnel-ssh-user U      the user it logs in as (env DH_TUNNEL_SSH_USER; root)
  --broker-admin-url URL   mqtt://host:port of the broker whose edge identities this gateway keeps in
                           line with the registry (env DH_BROKER_ADMIN_URL; none: not managed)
  --broker-admin-user U    its dynamic-security admin (env DH_BROKER_ADMIN_USER; admin@devicehub)
  --broker-admin-password P   (env DH_BROKER_ADMIN_PASSWORD; required with the URL)
  --broker-link-password P    creates the link user link@devicehub on a bare broker (env DH_BROKER_LINK_PASSWORD)
  --broker-reconcile S     seconds between reconciler passes (env DH_BROKER_RECONCILE_S; 60; 0: none)
  --identity-dir DIR       the fleet CA (ca.key, ca.crt) and sealing key (sealing.key): edge certificates
                           and credential rotation (env DH_IDENTITY_DIR; the operator's files, shared)
  --identity-create        generate what is missing there (env DH_IDENTITY_CREATE=1; the demo)
  --tuf-keys-dir DIR       TUF signing keys (roles.json, <role>-<n>.pem; gateway/tuf/README.md): artifacts
                           signed as targets, metadata at /v1/tuf/metadata (env DH_TUF_KEYS_DIR)
  --tuf-create             generate what is missing there (env DH_TUF_CREATE=1; the demo)
  --crl-file FILE          write the CRL here on every revocation: the broker's crlfile (env DH_CRL_FILE)
  --kafka-admin-brokers H:P,…  the SASL_SSL Kafka whose edge credentials (a SCRAM user per edge) this
                           gateway keeps with the registry (env DH_KAFKA_ADMIN_BROKERS; none: not managed)
  --kafka-admin-user U     the hub's SCRAM-SHA-512 super user (env DH_KAFKA_ADMIN_USER; hub@devicehub);
                           its password from env DH_KAFKA_ADMIN_PASSWORD only (never a flag)
  --kafka-admin-ca FILE    CA (PEM) of the brokers' certificates (env DH_KAFKA_ADMIN_CA_FILE)
${clipLinksHelp}
${monitoringHelp}`;

export async function gatewayCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseGatewayArgs(argv);
  const databaseUrl = values['database-url'] ?? process.env.DATABASE_URL;
  const workers = positionals[0] === 'create-key' ? 1 : workerCount(values, databaseUrl);
  // One process per core: this one forks them and serves nothing itself (gateway/workers).
  if (workers > 1 && cluster.isPrimary) {
    if (!clusterConfig(values).redisUrl) throw new RangeError('Missing --redis / REDIS_URL');
    return runPrimary({
      workers,
      log: processLogger('gateway', { role: 'primary' }),
      stopMs: GATEWAY_STOP_MS,
      env: sharedTunnelKey(values),
    });
  }
  const database = await openDatabase({
    url: databaseUrl,
    dataDir: values['data-dir'] ?? process.env.DH_DATA_DIR ?? './.devicehub/pglite',
  });
  if (positionals[0] === 'create-key') return createKey(database, values);
  const replicaUrl = values['database-replica-url'] ?? process.env.DATABASE_REPLICA_URL;
  if (replicaUrl && !databaseUrl)
    throw new RangeError('--database-replica-url needs --database-url: a replica of it');
  // Opened lazily: a replica down at start is a replica down (reads go to the primary), not a failed start.
  const replica = replicaUrl ? await openDatabase({ url: replicaUrl, readOnly: true }) : undefined;
  const maxLagMs = intFlag(values, {
    name: 'replica-max-lag-ms',
    env: 'DH_REPLICA_MAX_LAG_MS',
    fallback: 2000,
  });
  const config = clusterConfig(values);
  if (!config.redisUrl) throw new RangeError('Missing --redis / REDIS_URL');
  const log = processLogger('gateway', cluster.isWorker ? { worker: cluster.worker?.id } : {});
  const redis = connectRedis(config.redisUrl, { name: 'gateway' });
  redis.on('error', (err) => log.warn({ err }, 'redis connection error'));
  const objectStore =
    values['object-store'] ??
    process.env.DH_OBJECT_STORE ??
    pathToFileURL(resolve('.devicehub', 'objects')).href;
  const objects = await openObjectStore(objectStore);
  // What GET /v1/logs and its tail read (unset: they answer 503); the same store the lines ship to.
  const logStore = process.env.DEVICEHUB_LOG_STORE || undefined;
  const logs = logStore === undefined ? undefined : openLogStore(logStore, { logger: log });
  const port = intFlag(values, { name: 'port', env: 'PORT', fallback: 8080 });
  const hostname = values.host ?? process.env.HOST ?? '127.0.0.1';
  const tls = gatewayTls(values);
  const monitoring = monitoringOptions(values);
  const clusterMetrics = cluster.isWorker ? workerMetrics() : undefined;
  const gateway = await createGateway({
    database,
    ...(replica === undefined ? {} : { replica, readRouting: { maxLagMs } }),
    bus: await openClusterBus(redis, config),
    logger: log,
    objects,
    ...(logs === undefined ? {} : { logs }),
    maxArtifactBytes: intFlag(values, {
      name: 'max-artifact-bytes',
      env: 'DH_MAX_ARTIFACT_BYTES',
      fallback: DEFAULT_MAX_ARTIFACT_BYTES,
    }),
    maxFrameBytes: intFlag(values, {
      name: 'max-frame-bytes',
      env: 'DH_MAX_FRAME_BYTES',
      fallback: DEFAULT_MAX_FRAME_BYTES,
    }),
    ...workerShare(gatewayFlagOptions(values), workers),
    ...(clusterMetrics === undefined ? {} : { clusterMetrics }),
    clipLinks: clipLinkOptions(values, `${tls === undefined ? 'http' : 'https'}://${hostname}:${port}`),
    ...(monitoring === undefined ? {} : { monitoring }),
  });
  const served = await serveGateway(gateway, {
    port,
    hostname,
    ...(tls === undefined ? {} : { tls }),
  });
  log.info(
    {
      url: served.url,
      database: database.driver,
      tls: tls !== undefined,
      objects: objects.kind,
      logs: logs?.kind ?? 'none',
    },
    'gateway listening',
  );
  // A renewed certificate is read again on SIGHUP, without dropping connections.
  process.on(
    'SIGHUP',
    () => void served.reloadTls().catch((err: unknown) => log.error({ err }, 'TLS certificate not reloaded')),
  );
  // Bounded: with Redis or the database gone a step can wait forever; past the deadline the
  // process exits anyway (what the outbox sink had not committed is read again by the next one).
  stopOnSignals({
    log,
    timeoutMs: GATEWAY_STOP_MS,
    steps: [
      { name: 'closing the HTTP server', run: () => served.close() },
      { name: 'stopping the gateway', run: () => gateway.stop() },
      { name: 'closing the database', run: () => database.close() },
      { name: 'closing the read replica', run: async () => await replica?.close() },
      { name: 'closing the object store', run: async () => await objects[Symbol.asyncDispose]() },
      { name: 'closing the log store', run: async () => await logs?.[Symbol.asyncDispose]() },
      { name: 'closing Redis', run: async () => void redis.disconnect() },
    ],
  });
  // Up, and stopping on a signal already: a parent that waits for this may signal at once.
  process.send?.({ ready: true, url: served.url });
}

/**
 * Gateway processes on the port: --workers / DH_GATEWAY_WORKERS, else one per core with a
 * PostgreSQL database and one with embedded PGlite (a folder only one process may open).
 */
function workerCount(values: { workers?: string }, databaseUrl: string | undefined): number {
  const fallback = databaseUrl ? availableParallelism() : 1;
  const workers = intFlag(values, { name: 'workers', env: 'DH_GATEWAY_WORKERS', fallback });
  if (workers > 1 && !databaseUrl)
    throw new RangeError(
      `--workers ${workers} needs --database-url / DATABASE_URL: embedded PGlite is one process's`,
    );
  return workers;
}

/**
 * Multiplexed tunnels without --tunnel-secret-file derive their secrets from a random key of the
 * process: with several workers, one key for all of them (a file only this user reads, in a
 * folder of its own), so a terminal opens whichever worker the browser reaches.
 */
function sharedTunnelKey(values: {
  'tunnel-mux'?: string;
  'tunnel-secret-file'?: string;
}): Record<string, string> {
  const mux = values['tunnel-mux'] ?? process.env.DH_TUNNEL_MUX;
  if (mux === undefined || (values['tunnel-secret-file'] ?? process.env.DH_TUNNEL_SECRET_FILE) !== undefined)
    return {};
  const file = join(mkdtempSync(join(tmpdir(), 'dh-gateway-')), 'tunnel.key');
  writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  return { DH_TUNNEL_SECRET_FILE: file };
}

/**
 * One worker's share of what is limited per process: an address's failed logins (each worker
 * counts its own, and connections are spread over the workers, so each allows 1/N of the burst
 * and rate; together never more than one gateway process would).
 */
function workerShare<T extends Pick<GatewayOptions, 'authentication'>>(options: T, workers: number): T {
  if (workers <= 1) return options;
  return {
    ...options,
    authentication: {
      ...options.authentication,
      loginLimit: {
        burst: Math.max(1, Math.floor(DEFAULT_LOGIN_BURST / workers)),
        perSecond: DEFAULT_LOGIN_PER_SECOND / workers,
      },
    },
  };
}

function parseGatewayArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...clusterFlags,
      port: { type: 'string' },
      host: { type: 'string' },
      workers: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'database-url': { type: 'string' },
      'data-dir': { type: 'string' },
      'database-replica-url': { type: 'string' },
      'replica-max-lag-ms': { type: 'string' },
      'object-store': { type: 'string' },
      'max-artifact-bytes': { type: 'string' },
      'max-frame-bytes': { type: 'string' },
      'trusted-proxies': { type: 'string' },
      'expires-in-days': { type: 'string' },
      name: { type: 'string' },
      scope: { type: 'string' },
      'web-backend-url': { type: 'string' },
      'web-backend-token': { type: 'string' },
      'web-backend-partitions': { type: 'string' },
      'web-backend-rate': { type: 'string' },
      'tunnel-ports': { type: 'string' },
      'tunnel-host': { type: 'string' },
      'tunnel-server': { type: 'string' },
      'tunnel-max-ttl': { type: 'string' },
      'tunnel-mux': { type: 'string' },
      'tunnel-secret-file': { type: 'string' },
      'tunnel-ssh-key': { type: 'string' },
      'tunnel-ssh-user': { type: 'string' },
      'broker-admin-url': { type: 'string' },
      'broker-admin-user': { type: 'string' },
      'broker-admin-password': { type: 'string' },
      'broker-link-password': { type: 'string' },
      'broker-reconcile': { type: 'string' },
      'identity-dir': { type: 'string' },
      'identity-create': { type: 'boolean' },
      'tuf-keys-dir': { type: 'string' },
      'tuf-create': { type: 'boolean' },
      'crl-file': { type: 'string' },
      'kafka-admin-brokers': { type: 'string' },
      'kafka-admin-user': { type: 'string' },
      'kafka-admin-ca': { type: 'string' },
      ...CLIP_LINK_FLAGS,
      ...MONITORING_FLAGS,
    },
  });
}

/** `devicehub gateway create-key`: prints the new key once, as JSON. */
async function createKey(
  database: Database,
  values: { name?: string; scope?: string; 'expires-in-days'?: string },
): Promise<void> {
  const scope = values.scope as ApiScope;
  if (!values.name || !API_SCOPES.includes(scope))
    throw new RangeError(`create-key needs --name and --scope ${API_SCOPES.join('|')}\n\n${gatewayHelp}`);
  const days = values['expires-in-days'];
  const expiresInDays = days === undefined ? undefined : Number(days);
  if (
    expiresInDays !== undefined &&
    !(Number.isInteger(expiresInDays) && expiresInDays >= 1 && expiresInDays <= 365)
  )
    throw new RangeError(`--expires-in-days: a whole number of days, 1 to 365, got "${days}"`);
  const { id, key, expiresAt } = await createApiKey(database.db, {
    name: values.name,
    scope,
    ...(expiresInDays === undefined ? {} : { expiresInDays }),
  });
  process.stdout.write(`${JSON.stringify({ id, scope, key, expiresAt })}\n`);
  await database.close();
}
