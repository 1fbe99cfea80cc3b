/**
 * Set-up the gateway scenarios share: mosquitto with a hub-side MQTT link process (which also
 * relays commands down to the edges), and a gateway database holding N registered edges (the
 * simulator's ids and passwords) and an operator key.
 */
import { LINK_USER } from '../edge/broker/mod.ts';
import { simulatedEdgeId, simulatedPassword } from '../edge/mod.ts';
import { createApiKey, openDatabase, registerEdges } from '../gateway/mod.ts';
import { type MosquittoServer, spawnDevicehub, startMosquitto, withDisposer } from '../infra/mod.ts';
import type { BenchCluster } from './cluster.ts';

export const HUB_PASSWORD = 'bench-hub';
/** The links' broker user (a name no edge id can be). */
export const HUB_USER = LINK_USER;

/**
 * mosquitto (the link user `HUB_USER`, and `users`: e.g. every edge's password) and `devicehub
 * link mqtt` against the cluster; disposed together.
 */
export async function startMqttHub(
  cluster: BenchCluster,
  users: Readonly<Record<string, string>> = {},
): Promise<MosquittoServer & AsyncDisposable> {
  const mosquitto = await startMosquitto({ users: { ...users, [HUB_USER]: HUB_PASSWORD } });
  const link = spawnDevicehub(
    [
      'link',
      'mqtt',
      ...cluster.cliArgs,
      '--url',
      mosquitto.url,
      '--username',
      HUB_USER,
      '--password',
      HUB_PASSWORD,
    ],
    { name: 'link', env: { DH_LOG_LEVEL: 'warn' } },
  );
  try {
    await link.ready;
  } catch (error) {
    await mosquitto.stop();
    throw error;
  }
  return withDisposer(mosquitto, async () => {
    await link.kill();
    await mosquitto.stop();
  });
}

/**
 * A `prepare` for `cluster.startGateway`: registers `edges` simulated edges and creates an
 * operator key, which `key()` returns afterwards (and an admin key, `adminKey()`, when asked).
 */
export function registeredFleet(cluster: BenchCluster, edges: number, o: { admin?: boolean } = {}) {
  const ids = Array.from({ length: edges }, (_, i) => simulatedEdgeId(i));
  let operatorKey = '';
  let adminKey = '';
  return {
    ids,
    key: () => operatorKey,
    adminKey: () => adminKey,
    prepare: async (dataDir: string) => {
      const database = await openDatabase({ dataDir });
      await registerEdges(
        database.db,
        cluster.bus,
        ids.map((id) => ({ id, secret: simulatedPassword(id) })),
      );
      if (o.admin === true)
        adminKey = (await createApiKey(database.db, { name: 'bench-admin', scope: 'admin' })).key;
      operatorKey = (await createApiKey(database.db, { name: 'bench', scope: 'operator' })).key;
      await database.close();
    },
  };
}
