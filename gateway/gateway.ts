/**
 * A gateway: its fleet view, authenticator and app over a database and Redis, the outbox sink
 * (alarm history, tunnel states, the web-backend queues), web-backend delivery and the live event
 * feed. `createGateway` for in-process use (tests call `app.request`); `serveGateway` (serve.ts,
 * re-exported here) listens over HTTP or HTTPS with the WebSocket upgrades.
 */
import { type Logger, silentLogger } from '../actors/mod.ts';
import type { Bus } from '../bus/mod.ts';
import { ADMIN_USER, BrokerIdentities, DynsecClient } from '../edge/broker/mod.ts';
import type { LogStore } from '../logs/mod.ts';
import type { ObjectStore } from '../objects/mod.ts';
import { type ClipLinkOptions, ClipLinkSigner, startPartitionRetention } from './alarms/mod.ts';
import { createApp } from './app.ts';
import { ArtifactCatalog } from './artifacts/mod.ts';
import { Authenticator, type AuthenticatorOptions } from './auth.ts';
import { BrokerReconciler } from './broker-reconciler.ts';
import { type EdgeCredentials, type IdentityOptions, startCredentials } from './credentials/mod.ts';
import { ensureAlarmPartitions } from './db/alarm-partitions.ts';
import type { Database, Db } from './db/database.ts';
import { type ReadRouterOptions, startReadRouter } from './db/read-router.ts';
import type { TunnelSettings } from './deps.ts';
import type { FleetSignals } from './fleet-signals/mod.ts';
import { FleetView } from './fleet-view.ts';
import { startOutbox } from './gateway-outbox.ts';
import { type KafkaAdminOptions, startKafkaCredentials } from './kafka-credentials.ts';
import { EventFeed } from './live-events.ts';
import {
  ALERT_RULES_CHANGED,
  type AlertRuleApplier,
  type MonitoringOptions,
  openPrometheus,
  startRuleApplier,
} from './monitoring/mod.ts';
import type { ClipRequests } from './outbox/clip-requests.ts';
import type { OutboxSink } from './outbox/sink.ts';
import type { VisionRequests } from './outbox/vision-requests.ts';
import type { WebBackendOptions, WebBackendOutbox } from './outbox/web-backend.ts';
import { PolicyPublisher } from './policy-publisher.ts';
import { ConfigRolloutGate, RolloutMembershipJob } from './rollouts/mod.ts';
import { ScreenModel, type ScreenModelSettings } from './screens/mod.ts';
import { type StartedTuf, startTuf, type TufOptions, type TufRepository } from './tuf/mod.ts';
import { DEFAULT_TUNNEL_SETTINGS, type TerminalDeps } from './tunnels/mod.ts';
import type { ClusterMetrics } from './workers/cluster-metrics.ts';

export type { ServedGateway, ServeOptions } from './serve.ts';
export { serveGateway } from './serve.ts';

export interface GatewayOptions {
  readonly database: Database;
  /**
   * The streaming read replica (`DATABASE_REPLICA_URL`, opened `readOnly`): heavy reads go there
   * (gateway/db/read-router.ts); the caller closes it. None: every read is the primary's.
   */
  readonly replica?: Database;
  /** The read router's lag bound and probe interval (defaults 2000 ms, 250 ms). */
  readonly readRouting?: Pick<ReadRouterOptions, 'maxLagMs' | 'pollMs'>;
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
  /** Between passes of the rollouts' membership job (default 30 s; 0: none). */
  readonly rolloutMembershipMs?: number;
  /** Whole months of alarms and clips kept (default 13 each), dropped hourly under a lease; false: none. */
  readonly partitionRetention?:
    | { keepMonths?: { alarms?: number; clips?: number }; intervalMs?: number }
    | false;
  /** Between recounts of the fleet per building for the metrics (default 30 s; 0: none). */
  readonly fleetSignalsMs?: number;
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
  /** The TUF repository's keys and upkeep (none: no signed update metadata, /v1/tuf answers 503). */
  readonly tuf?: TufOptions;
  /**
   * Where artifacts are kept (objects/: `openObjectStore(--object-store)`); the caller closes it.
   * None: the artifact routes answer 503.
   */
  readonly objects?: ObjectStore;
  /** The largest artifact upload (default DEFAULT_MAX_ARTIFACT_BYTES, 2 GB). */
  readonly maxArtifactBytes?: number;
  /** The largest vision frame an edge may upload (default DEFAULT_MAX_FRAME_BYTES, 2 MiB). */
  readonly maxFrameBytes?: number;
  /** Alarm clips' signed links: the shared key, the public address, their lifetimes (gateway/alarms). */
  readonly clipLinks?: ClipLinkOptions;
  /** Prometheus (its rules folder), Alertmanager and the alert webhook's token (gateway/monitoring). */
  readonly monitoring?: MonitoringOptions;
  /** The log store `/v1/logs` and its tail read (logs/: `openLogStore`); the caller closes it. None: 503. */
  readonly logs?: LogStore;
  /** One of several gateway processes on a port (gateway/workers): `/metrics` answers for all of them. */
  readonly clusterMetrics?: ClusterMetrics;
  /** The wall screens' read model's timings (gateway/screens); false: none (the feeds answer 503). */
  readonly screens?: ScreenModelSettings | false;
}

export interface BrokerAdminOptions {
  /** mqtt://host:port */
  readonly url: string;
  /** Default ADMIN_USER (`admin@devicehub`). */
  readonly username?: string;
  readonly password: string;
  /** Link users the gateway creates if the broker lacks them (user → password). */
  readonly links?: Readonly<Record<string, string>>;
  /** Between reconciler passes, run by one gateway of the cluster at a time (default 60 s; 0: none). */
  readonly reconcileMs?: number;
}

export interface Gateway extends AsyncDisposable {
  readonly app: ReturnType<typeof createApp>;
  readonly view: FleetView;
  readonly auth: Authenticator;
  /** Configuration rollouts' gate (the configuration's 304 fast path asks it too). */
  readonly configGate: ConfigRolloutGate;
  readonly feed: EventFeed;
  /** The wall screens' read model (none when `screens: false`). */
  readonly screens: ScreenModel | undefined;
  readonly sink: OutboxSink;
  /** The sink's alarm-clip requests: their rows and jobs on the clip queue. */
  readonly clipRequests: ClipRequests;
  /** The outbox sink's recognition jobs: its model queues and counts (queued, shed, …). */
  readonly visionRequests: VisionRequests;
  /** Edges per building and alarms by kind for /metrics (gateway/fleet-signals). */
  readonly fleetSignals: FleetSignals;
  readonly webBackend: WebBackendOutbox | undefined;
  readonly log: Logger;
  /** The broker reconciler, when the gateway manages the broker's identities. */
  readonly reconciler: BrokerReconciler | undefined;
  /** Edge certificates and rotations, when the gateway has a fleet CA. */
  readonly credentials: EdgeCredentials | undefined;
  /** The TUF repository, when the gateway has its keys. */
  readonly tuf: TufRepository | undefined;
  /** The artifact catalog, when the gateway has an object store. */
  readonly artifacts: ArtifactCatalog | undefined;
  /** What the browser terminals (`serveGateway`) work with. */
  readonly terminalDeps: TerminalDeps;
  /** The log store the logs' tail (`serveGateway`) reads, when the gateway has one. */
  readonly logs: LogStore | undefined;
  stop(): Promise<void>;
}

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const log = (options.logger ?? silentLogger).child({ component: 'gateway' });
  const { bus } = options;
  const db = options.database.db;
  const name = options.name ?? `gateway-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const partitions = await keepAlarmPartitions(db, log);
  const auth = new Authenticator(db, { ...options.authentication, logger: log });
  let policies: PolicyPublisher | undefined;
  let rules: AlertRuleApplier | undefined;
  const view = await new FleetView({
    db,
    bus,
    logger: log,
    // Credentials changed somewhere in the cluster: look them up afresh.
    onChange: (what) => {
      if (what.startsWith('edge/')) auth.forget(what.slice('edge/'.length));
      if (what.startsWith('api-key/')) auth.forgetKeys();
      // The clip and recognition policies are the devicehub configuration's: the hub nodes read them from Redis.
      if (what.startsWith('config/devicehub/')) void policies?.publish();
      // The operator alert rules changed: the gateway holding their lease applies them now.
      if (what === ALERT_RULES_CHANGED) void rules?.kick();
    },
  }).start();
  policies = await new PolicyPublisher({ db, bus, logger: log }).start();
  // One Prometheus client: the servers' API asks it, the rules loop reloads it.
  const prometheusUrl = options.monitoring?.prometheusUrl;
  const prometheus = prometheusUrl ? openPrometheus(prometheusUrl) : undefined;
  rules = startRuleApplier(options.monitoring, { db, bus, holder: name, logger: log, prometheus });
  const clipLinks = new ClipLinkSigner(options.clipLinks);
  if (clipLinks.ephemeral && options.objects !== undefined)
    log.warn({}, 'alarm clip links are signed with this process’s own key: they open on this gateway only');
  const { webBackend, sink, clipRequests, visionRequests, fleetSignals } = startOutbox(options, {
    db,
    bus,
    name,
    log,
    clipLinks,
    policies,
    view,
  });
  const feed = await new EventFeed({ bus, logger: log }).start();
  const screens =
    options.screens === false
      ? undefined
      : await new ScreenModel({ edges: view, logger: log, ...options.screens }).start({ bus, feed });
  const retention =
    options.partitionRetention === false
      ? undefined
      : startPartitionRetention({ db, bus, holder: name, logger: log, ...options.partitionRetention });
  const membership = new RolloutMembershipJob({
    db,
    bus,
    holder: name,
    logger: log,
    intervalMs: options.rolloutMembershipMs,
  });
  if (options.rolloutMembershipMs !== 0) membership.start();
  const { dynsec, broker, reconciler } = startBrokerAdmin(options.broker, { db, bus, holder: name, log });
  const kafka = options.kafka === undefined ? undefined : await startKafkaCredentials(options.kafka, log);
  const credentials =
    options.identity === undefined
      ? undefined
      : await startCredentials(options.identity, {
          db,
          bus,
          holder: name,
          view,
          auth,
          broker,
          kafka,
          logger: log,
        });
  if (credentials !== undefined) auth.onNewSecret((id, secret) => credentials.rotations.confirm(id, secret));
  const artifacts =
    options.objects === undefined
      ? undefined
      : new ArtifactCatalog(db, options.objects, { maxBytes: options.maxArtifactBytes, logger: log });
  const tuf: StartedTuf | undefined =
    options.tuf === undefined
      ? undefined
      : await startTuf(options.tuf, {
          db,
          bus,
          holder: name,
          log,
          ...(artifacts === undefined ? {} : { artifacts }),
        });
  const tunnels = { ...DEFAULT_TUNNEL_SETTINGS, ...options.tunnels };
  const reads = await startReadRouter({
    primary: db,
    ...(options.replica === undefined ? {} : { replica: options.replica.db }),
    bus,
    logger: log,
    ...options.readRouting,
  });
  const configGate = new ConfigRolloutGate({ db, bus, view, feed });
  const app = createApp({
    db,
    reads,
    bus,
    view,
    auth,
    log,
    maxWaitSeconds: options.maxWaitSeconds,
    tunnels,
    webBackend,
    visionRequests,
    fleetSignals,
    configGate,
    ...(broker === undefined ? {} : { broker }),
    ...(kafka === undefined ? {} : { kafka }),
    ...(credentials === undefined ? {} : { credentials }),
    ...(tuf === undefined ? {} : { tuf: tuf.repository }),
    ...(artifacts === undefined ? {} : { artifacts }),
    ...(options.objects === undefined ? {} : { objects: options.objects }),
    ...(options.maxFrameBytes === undefined ? {} : { maxFrameBytes: options.maxFrameBytes }),
    ...(options.logs === undefined ? {} : { logs: options.logs }),
    ...(options.clusterMetrics === undefined ? {} : { clusterMetrics: options.clusterMetrics }),
    ...(screens === undefined ? {} : { screens }),
    clipLinks,
    ...(options.monitoring === undefined
      ? {}
      : { monitoring: { ...options.monitoring, ...(rules === undefined ? {} : { applier: rules }) } }),
    ...(prometheus === undefined ? {} : { prometheus }),
  });
  const stop = async () => {
    clearInterval(partitions);
    await sink.stop();
    await clipRequests.stop();
    await visionRequests.stop();
    await fleetSignals.stop();
    await policies?.stop();
    await rules?.stop();
    await membership.stop();
    await retention?.stop();
    await webBackend?.stop();
    await screens?.stop();
    configGate[Symbol.dispose]();
    await feed.stop();
    await view.stop();
    await reconciler?.stop();
    await credentials?.[Symbol.asyncDispose]();
    await dynsec?.close();
    await kafka?.close();
    await tuf?.[Symbol.asyncDispose]();
    await reads.stop();
  };
  const terminalDeps: TerminalDeps = { db, bus, auth, tunnels, log };
  return {
    app,
    view,
    auth,
    configGate,
    feed,
    screens,
    sink,
    clipRequests,
    visionRequests,
    fleetSignals,
    webBackend,
    log,
    reconciler,
    credentials,
    tuf: tuf?.repository,
    artifacts,
    terminalDeps,
    logs: options.logs,
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

/** The broker's dynamic-security admin, its edge identities and their reconciler (none without options). */
function startBrokerAdmin(
  options: BrokerAdminOptions | undefined,
  { db, bus, holder, log }: { db: Db; bus: Bus; holder: string; log: Logger },
) {
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
          bus,
          holder,
          identities: broker,
          intervalMs: options?.reconcileMs ?? 60_000,
          ...(options?.links === undefined ? {} : { links: options.links }),
          logger: log,
        }).start();
  return { dynsec, broker, reconciler };
}
