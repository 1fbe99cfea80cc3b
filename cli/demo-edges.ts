/**
 * The demo's edges: with mosquitto, 1,000 simulated edges (each its own connection and password)
 * behind the hub's MQTT link and downlink relay, plus the remote-access edge `DEMO-SSH`; without
 * it, a load generator writing straight into the mailboxes at the legacy rate.
 * Over TLS with the demo PKI: the simulated edges log in with their passwords on mosquitto's
 * password-over-TLS listener (1,000 certificates would be made at every first start and kept;
 * passwords over TLS keep the start quick, and the registry already has them), `DEMO-SSH` with a
 * certificate of its own on the mutual-TLS listener, the link and the downlink relay with the
 * link's certificate on the hub's mutual-TLS listener. mosquitto's plaintext listener (loopback)
 * is only for the gateway's dynamic-security admin.
 */

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { serveMetrics } from '../actors/mod.ts';
import { spawnLoadGenerator } from '../bench/mod.ts';
import { type Bus, connectRedis, type Keyspace, openBus } from '../bus/mod.ts';
import { LINK_USER } from '../edge/broker/mod.ts';
import {
  DownlinkRelay,
  HubPresence,
  linkMetricsText,
  MqttLink,
  mqttDownlink,
  Simulator,
  simulatedEdgeId,
  simulatedPassword,
} from '../edge/mod.ts';
import type { BrokerAdminOptions } from '../gateway/mod.ts';
import { type MosquittoServer, startMosquitto } from '../infra/mod.ts';
import { demoLogger, LOG_DIR } from './demo-logs.ts';
import type { DemoPki } from './demo-pki.ts';
import { REMOTE_EDGE, type RemoteEdge, startRemoteEdge } from './demo-remote-edge.ts';
import { DEMO_VISION_EDGE } from './demo-vision.ts';
import { logFile } from './logger.ts';

export interface EdgeSource {
  sent(): number;
  describe(): string;
  /** The remote-access edge, when it started. */
  readonly remote?: RemoteEdge;
  /** The broker's admin, for the gateway to register edges on it (none without mosquitto). */
  readonly broker?: BrokerAdminOptions;
  /** mosquitto's edge listeners: passwords over TLS, and certificates (none without mosquitto). */
  readonly mqtt?: { readonly tlsUrl: string; readonly mtlsUrl: string };
  /** The password of DEMO-VISION (the demo's vision events), a broker user; the gateway registers it with it. */
  readonly visionPassword?: string;
  /** The MQTT link's /metrics (served by the demo process on a loopback port). */
  readonly linkMetrics?: string;
  stop(): Promise<void>;
}

interface EdgeSourceOptions {
  redisUrl: string;
  keyspace: Keyspace;
  edges: number;
  pki: DemoPki;
}

/** Edges through a real broker when mosquitto is installed; otherwise straight into the mailboxes. */
export async function startEdgeSource(o: EdgeSourceOptions): Promise<EdgeSource> {
  const users = brokerUsers(o.edges);
  const { pki } = o;
  let broker: MosquittoServer;
  try {
    broker = await startMosquitto({
      users,
      tls: {
        caFile: pki.caFile,
        certFile: pki.server.certFile,
        keyFile: pki.server.keyFile,
        crlFile: pki.crlFile,
      },
    });
  } catch {
    return startDirectEdges(o);
  }
  const tls = broker.tls!;
  const ca = readFileSync(pki.caFile);
  const linkCert = await pki.issueService(LINK_USER);
  const redis = connectRedis(o.redisUrl, { name: 'demo-link' });
  redis.on('error', () => {});
  const hubSide = {
    url: tls.hubUrl,
    tls: { ca, cert: linkCert.certificatePem, key: linkCert.privateKeyPem },
    bus: openBus({ redis, keyspace: o.keyspace }),
  };
  const link = await startLink(hubSide);
  const presence = await new HubPresence({ bus: hubSide.bus, logger: demoLogger('link-mqtt') }).start();
  // The link's families only: its process is the demo's, whose CPU and RSS the gateway's job has.
  const metrics = await serveMetrics({
    what: 'link',
    collect: () => linkMetricsText([link], presence).text(),
  });
  const simulated = await startSimulatedEdges(tls.tlsUrl, o.edges, ca);
  const relay = await startRelay(hubSide);
  const remote = await startDemoSsh(tls.mtlsUrl, users[REMOTE_EDGE]!, pki);
  return {
    sent: () => link.stats.enqueued,
    describe: () =>
      `mosquitto ${tls.tlsUrl} (TLS): ${simulated.sim.stats.connected} edges connected, ${simulated.sim.stats.alarmsRaised} storm alarms`,
    remote,
    visionPassword: users[DEMO_VISION_EDGE],
    // The gateway's dynamic-security admin: mosquitto's plaintext listener, on loopback only.
    broker: { url: broker.url, ...broker.admin },
    mqtt: { tlsUrl: tls.tlsUrl, mtlsUrl: tls.mtlsUrl },
    linkMetrics: metrics.url,
    async stop() {
      presence.stop();
      await metrics.close();
      clearInterval(simulated.storms);
      await remote?.stop();
      await relay.stop();
      await simulated.sim.stop();
      await link.stop();
      redis.disconnect();
      await broker.stop();
    },
  };
}

/** The broker's users: the link, the remote-access edge (random passwords) and every simulated edge. */
function brokerUsers(edges: number): Record<string, string> {
  const users: Record<string, string> = {
    [LINK_USER]: randomBytes(12).toString('hex'),
    [REMOTE_EDGE]: randomBytes(12).toString('hex'),
    // Derived like the simulated edges' (the gateway's registry keeps the first secret it was given).
    [DEMO_VISION_EDGE]: simulatedPassword(DEMO_VISION_EDGE),
  };
  for (let i = 0; i < edges; i++) users[simulatedEdgeId(i)] = simulatedPassword(simulatedEdgeId(i));
  return users;
}

/** Without mosquitto: a load generator writes the edges' messages into their mailboxes directly. */
function startDirectEdges(o: EdgeSourceOptions): EdgeSource {
  const load = spawnLoadGenerator({
    redisUrl: o.redisUrl,
    keyspace: o.keyspace,
    edges: o.edges,
    seconds: 365 * 24 * 3600,
    alarmRate: 0.0005,
  });
  return {
    sent: () => load.sent,
    describe: () =>
      'no mosquitto (`sh infra/provision.sh` as root installs it): edges write to their mailboxes directly',
    stop: async () => load.stop(),
  };
}

/** The link's certificate and the CA, for the hub's mutual-TLS listener. */
type LinkTls = { ca: Buffer; cert: string; key: string };

/** The hub's MQTT link: edges' messages in, into their mailboxes. */
function startLink(o: { url: string; tls: LinkTls; bus: Bus }) {
  return new MqttLink({
    url: o.url,
    username: LINK_USER,
    tls: o.tls,
    bus: o.bus,
    logger: demoLogger('link-mqtt'),
  }).start();
}

/** Commands (tunnels) go back to the edges over MQTT. */
async function startRelay(o: { url: string; tls: LinkTls; bus: Bus }) {
  return new DownlinkRelay({
    bus: o.bus,
    sender: await mqttDownlink({ url: o.url, username: LINK_USER, tls: o.tls }),
    logger: demoLogger('downlink'),
  }).start();
}

/** The simulated edges at 20× real time (passwords over TLS), with an alarm storm every minute. */
async function startSimulatedEdges(url: string, edges: number, ca: Buffer) {
  const sim = await new Simulator({
    url,
    edges,
    password: simulatedPassword,
    mqttTls: { ca },
    speed: 20,
  }).start();
  // The simulator logs nothing itself: its counters, once a minute, with each alarm storm.
  const simLog = demoLogger('simulator');
  simLog.info({ edges, url, speed: 20 }, 'simulator started');
  const storms = setInterval(() => {
    sim.alarmStorm();
    simLog.info({ ...sim.stats }, 'alarm storm');
  }, 60_000);
  return { sim, storms };
}

/** `DEMO-SSH`, the remote-access edge; the demo runs on without it (no frp or sshd). */
async function startDemoSsh(
  brokerUrl: string,
  password: string,
  pki: DemoPki,
): Promise<RemoteEdge | undefined> {
  return startRemoteEdge({ brokerUrl, password, pki, logFile: logFile(LOG_DIR, 'remote-edge') }).catch(
    (error: unknown) => {
      process.stderr.write(
        `remote-access edge not started (${error instanceof Error ? error.message : String(error)})\n`,
      );
      return undefined;
    },
  );
}
