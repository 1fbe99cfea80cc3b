/**
 * The demo's gateway: embedded PGlite under ./.devicehub/pglite, the simulated edges registered
 * with their simulator passwords (so they could fetch their configuration), an admin key created
 * once and kept in ./.devicehub/admin-key, serving HTTPS on :8080 (or a free port when taken)
 * with the demo PKI's server certificate; it manages the demo broker's identities (an edge
 * registered through the API connects at once) and, with the PKI's CA and sealing key
 * (`identity`), issues, renews and revokes edges' certificates, writing the CRL mosquitto reads.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from '../actors/mod.ts';
import type { Bus } from '../bus/mod.ts';
import { simulatedEdgeId, simulatedPassword } from '../edge/mod.ts';
import {
  Authenticator,
  type BrokerAdminOptions,
  createApiKey,
  createGateway,
  openDatabase,
  registerEdges,
  serveGateway,
} from '../gateway/mod.ts';
import type { MonitoringOptions } from '../gateway/monitoring/mod.ts';
import { openLogStore } from '../logs/mod.ts';
import { FsObjectStore } from '../objects/mod.ts';
import type { DemoKafka } from './demo-kafka.ts';
import type { DemoPki } from './demo-pki.ts';
import { REMOTE_EDGE, type RemoteEdge } from './demo-remote-edge.ts';
import { startDemoScreen } from './demo-screen.ts';
import { DEMO_VISION_EDGE } from './demo-vision.ts';
import { readOrCreateKey } from './gateway-clip-links.ts';

export async function startDemoGateway(o: {
  bus: Bus;
  edges: number;
  pki: DemoPki;
  /** The legacy edges' authenticated Kafka: they are registered, and edges' Kafka users follow the registry. */
  kafka?: Pick<DemoKafka, 'edgeIds' | 'admin'>;
  remote?: RemoteEdge;
  /** DEMO-VISION's password (cli/demo-vision.ts): registered with it, for its frame uploads. */
  visionPassword?: string;
  /** mosquitto's admin: edges registered through the API can connect at once. */
  broker?: BrokerAdminOptions;
  /** Prometheus, its rules folder, Alertmanager and the webhook's token (cli/demo-monitoring.ts). */
  monitoring?: MonitoringOptions;
  logger?: Logger;
}) {
  const database = await openDatabase({ dataDir: resolve('.devicehub/pglite') });
  await registerEdges(database.db, o.bus, [
    ...Array.from({ length: o.edges }, (_, i) => ({
      id: simulatedEdgeId(i),
      secret: simulatedPassword(simulatedEdgeId(i)),
      groupId: `building-${1 + (i % 10)}`,
    })),
    ...(o.remote ? [{ id: REMOTE_EDGE, secret: randomBytes(16).toString('hex'), groupId: 'demo' }] : []),
    ...(o.visionPassword ? [{ id: DEMO_VISION_EDGE, secret: o.visionPassword, groupId: 'demo' }] : []),
    ...(o.kafka?.edgeIds ?? []).map((id) => ({
      id,
      secret: randomBytes(16).toString('hex'),
      groupId: 'legacy',
    })),
  ]);
  const keyFile = resolve('.devicehub/admin-key');
  // A new one when none is kept or the one kept no longer works (keys end: 90 days by default).
  const kept = existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : undefined;
  if (
    kept === undefined ||
    (await new Authenticator(database.db).principal(`Bearer ${kept}`)) === undefined
  ) {
    const { key } = await createApiKey(database.db, { name: 'demo-admin', scope: 'admin' });
    writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
  }
  const adminKey = readFileSync(keyFile, 'utf8').trim();
  // Artifacts of the updates in ./.devicehub/objects (the filesystem object store).
  const objects = await FsObjectStore.open(resolve('.devicehub/objects'));
  // The demo's VictoriaLogs (cli/demo-monitoring.ts set DEVICEHUB_LOG_STORE): the dashboard's logs page reads it.
  const logStore = process.env.DEVICEHUB_LOG_STORE || undefined;
  const logs = logStore === undefined ? undefined : openLogStore(logStore, { logger: o.logger });
  const gateway = await createGateway({
    database,
    bus: o.bus,
    objects,
    ...(o.remote ? { tunnels: o.remote.tunnels } : {}),
    ...(o.broker ? { broker: o.broker } : {}),
    ...(o.kafka ? { kafka: o.kafka.admin } : {}),
    ...(o.monitoring ? { monitoring: o.monitoring } : {}),
    ...(logs ? { logs } : {}),
    identity: { dir: o.pki.dir, create: true, crlFile: o.pki.crlFile },
    // The updates' signing keys, made once for the demo (an operator provides their own: --tuf-keys-dir).
    tuf: { keysDir: resolve('.devicehub/tuf'), create: true },
    // Alarm clips' links (the dashboard plays them) signed with a key kept across starts.
    clipLinks: { secretKey: readOrCreateKey(resolve('.devicehub/clip-url.key')) },
    logger: o.logger,
  });
  const tls = { certFile: o.pki.server.certFile, keyFile: o.pki.server.keyFile };
  const served = await serveGateway(gateway, { port: 8080, tls }).catch(() =>
    serveGateway(gateway, { port: 0, tls }),
  );
  o.logger?.info({ url: served.url }, 'gateway listening');
  // The demo's wall screen: its bundle uploaded, its page's address for the table (decision 027).
  const screen = await startDemoScreen({ gateway, database: database.db, url: served.url, adminKey }).catch(
    (error: unknown) => ({ skipped: error instanceof Error ? error.message : String(error) }),
  );
  return {
    url: served.url,
    adminKey,
    caFile: o.pki.caFile,
    screen,
    /** The embedded PGlite and the object store, for the demo's clip worker in this process. */
    database,
    objects,
    async stop() {
      await served.close();
      await gateway.stop();
      await database.close();
      await objects[Symbol.asyncDispose]();
      await logs?.[Symbol.asyncDispose]();
    },
  };
}
