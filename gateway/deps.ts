/** What the gateway's routes work with: one object, built once per gateway process. */
import type { Logger } from '../actors/mod.ts';
import type { Bus, PortRange } from '../bus/mod.ts';
import type { BrokerIdentities } from '../edge/broker/mod.ts';
import type { EdgeKafkaCredentials } from '../edge/kafka-auth/mod.ts';
import type { LogStore } from '../logs/mod.ts';
import type { ObjectStore } from '../objects/mod.ts';
import type { ClipLinkSigner } from './alarms/mod.ts';
import type { ArtifactCatalog } from './artifacts/mod.ts';
import type { Authenticator } from './auth.ts';
import type { EdgeCredentials } from './credentials/mod.ts';
import type { Db } from './db/database.ts';
import type { ReadRouter } from './db/read-router.ts';
import type { FleetSignals } from './fleet-signals/mod.ts';
import type { FleetView } from './fleet-view.ts';
import type { MonitoringOptions, PrometheusClient } from './monitoring/mod.ts';
import type { VisionRequestStats } from './outbox/vision-requests.ts';
import type { WebBackendOutbox } from './outbox/web-backend.ts';
import type { ConfigRolloutGate } from './rollouts/mod.ts';
import type { ScreenModel } from './screens/mod.ts';
import type { TufRepository } from './tuf/mod.ts';
import type { ClusterMetrics } from './workers/cluster-metrics.ts';

export interface GatewayDeps {
  readonly db: Db;
  /**
   * Where heavy reads go (alarm, audit, tunnel and clip history): the read replica unless the caller
   * wrote recently or it is down or lagging (gateway/db/read-router.ts); none: `db`.
   */
  readonly reads?: ReadRouter;
  /** Redis (connection and keyspace) through the bus. */
  readonly bus: Bus;
  readonly view: FleetView;
  readonly auth: Authenticator;
  readonly log: Logger;
  /** Longest long-poll a client may ask for, seconds (default 60). */
  readonly maxWaitSeconds?: number;
  /** Remote access (default DEFAULT_TUNNEL_SETTINGS). */
  readonly tunnels?: TunnelSettings;
  /** The MQTT broker's edge identities, when the gateway manages them (registration tells the broker). */
  readonly broker?: BrokerIdentities;
  /** Edges' SCRAM users on an authenticated Kafka, when the gateway manages them (like `broker`). */
  readonly kafka?: EdgeKafkaCredentials;
  /** The fleet CA's certificates and secret rotations, when the gateway has a CA (`--identity-dir`). */
  readonly credentials?: EdgeCredentials;
  /** The queues to the web backend, when one is configured (for the metrics). */
  readonly webBackend?: WebBackendOutbox;
  /** The outbox sink's recognition requests on this gateway (for the metrics). */
  readonly visionRequests?: { readonly stats: VisionRequestStats };
  /** Fleet signals (edges per building, alarms by kind) for the metrics. */
  readonly fleetSignals?: FleetSignals;
  /** Configuration rollouts' gate: the version before for edges not admitted yet (none: no gate). */
  readonly configGate?: ConfigRolloutGate;
  /** Artifacts in the object store (`--object-store`); none: the artifact routes answer 503. */
  readonly artifacts?: ArtifactCatalog;
  /** The TUF repository of the artifacts' signed metadata, when the gateway has keys (`--tuf-keys-dir`). */
  readonly tuf?: TufRepository;
  /** The object store (`--object-store`): alarm clips are read from it; none: clip links answer 503. */
  readonly objects?: ObjectStore;
  /** The largest vision frame an edge may upload (default 2 MiB; gateway/frames). */
  readonly maxFrameBytes?: number;
  /** Signs and checks alarm clips' links (default: a random key of this process, links paths only). */
  readonly clipLinks?: ClipLinkSigner;
  /** Prometheus's HTTP API (`GET /v1/servers*`), when configured; none: those answer 503. */
  readonly prometheus?: PrometheusClient;
  /** Prometheus, Alertmanager and the alert webhook's token (gateway/monitoring); none: their routes answer 503/401. */
  readonly monitoring?: MonitoringOptions & {
    readonly applier?: { readonly outcomes: ReadonlyMap<string, number> };
  };
  /** The log store (`DEVICEHUB_LOG_STORE`): `/v1/logs` and its tail read it; none: they answer 503. */
  readonly logs?: LogStore;
  /** One of several gateway processes on a port (gateway/workers): `/metrics` answers for all of them. */
  readonly clusterMetrics?: ClusterMetrics;
  /** The wall screens' read model (gateway/screens); none: the screen feeds answer 503. */
  readonly screens?: ScreenModel;
}

export interface TunnelSettings {
  /** The tunnel server's remote ports handed to tunnels, shared by every gateway. */
  readonly ports: PortRange;
  readonly defaultTtlSeconds: number;
  readonly maxTtlSeconds: number;
  /** The host operators connect to (the tunnel server's public name), for the connection hints. */
  readonly publicHost: string;
  /** The tunnel server address edges dial (`host:port` of frps), passed in the open command. */
  readonly serverAddr?: string;
  /**
   * Multiplexed mode: no port per tunnel; every service is reached through the tunnel server's one
   * HTTP CONNECT port (frp tcpmux) by a name `<service>-<tunnelId>.<domain>`, with the tunnel's
   * secret (HMAC of `secretKey` and its id; the same key on every gateway, else each has its own and
   * a terminal works only on the gateway that opened the tunnel).
   */
  readonly mux?: { readonly port: number; readonly domain: string; readonly secretKey?: Buffer };
  /** Where the gateway itself reaches the tunnel server (default `publicHost`). */
  readonly reachHost?: string;
  /** The gateway's SSH identity on edges, for browser terminals (none: terminals are off). */
  readonly ssh?: { readonly user: string; readonly privateKey: string | Buffer };
}
