/**
 * The scale benchmark's broker shards: K mosquitto processes, each holding the identities of its
 * own edges (`brokerShardOf`), its open-file limit raised to the hard cap, and one hub link process
 * per shard with a plain (non-shared) clean:false subscription, which mosquitto persists across
 * a restart (`--group ''`). With `tls`, edges log in with their passwords over TLS (the broker's
 * certificate checked against a fresh fleet CA) and each link with its own certificate.
 */
import { LINK_USER } from '../../edge/broker/mod.ts';
import { shardEdgeIndices, simulatedEdgeId, simulatedPassword } from '../../edge/mod.ts';
import {
  type DevicehubProcess,
  type MosquittoServer,
  nodeFlagsOf,
  openFileCap,
  spawnDevicehub,
  startMosquitto,
} from '../../infra/mod.ts';
import { startTestPki } from '../../infra/tls.ts';
import type { BenchCluster } from '../cluster.ts';

export interface BrokerShards extends AsyncDisposable {
  readonly brokers: readonly MosquittoServer[];
  readonly links: readonly DevicehubProcess[];
  /** Edges per shard. */
  readonly sizes: readonly number[];
  /** Where shard i's edges connect (its listeners: edge i to the (i mod n)th). */
  readonly edgeUrls: readonly (readonly string[])[];
  /** The fleet CA (with `tls`). */
  readonly caFile: string | undefined;
  /** Every shard restarted at once, each with SIGTERM (sessions and queued messages saved first). */
  restartAll(): Promise<void>;
}

const HUB_PASSWORD = 'hub-secret';

export async function startBrokerShards(
  cluster: BenchCluster,
  o: { edges: number; shards: number; tls: boolean; listeners?: number },
): Promise<BrokerShards> {
  const pki = o.tls ? await startTestPki() : undefined;
  const linkCert = await pki?.issueService(LINK_USER);
  const { hard } = openFileCap();
  const brokers: MosquittoServer[] = [];
  const links: DevicehubProcess[] = [];
  const sizes: number[] = [];
  const dispose = async () => {
    // Graceful stop, so a link run with --cpu-prof writes its profile (a whole run's takes seconds).
    await Promise.all(
      links.map((l) => Promise.race([l.stop(), sleep(20_000).then(() => l.kill('SIGKILL'))])),
    );
    await Promise.all(brokers.map((b) => b.stop()));
  };
  try {
    for (let shard = 0; shard < o.shards; shard++) {
      const users: Record<string, string> = { [LINK_USER]: HUB_PASSWORD };
      const mine = shardEdgeIndices(o.edges, { shard, shards: o.shards, idOf: simulatedEdgeId });
      for (const i of mine) users[simulatedEdgeId(i)] = simulatedPassword(simulatedEdgeId(i));
      sizes.push(mine.length);
      const tls =
        pki === undefined
          ? undefined
          : { caFile: pki.caFile, certFile: pki.server.certFile, keyFile: pki.server.keyFile };
      brokers.push(
        await startMosquitto({
          users,
          openFiles: hard,
          listeners: o.listeners ?? 1,
          ...(tls === undefined ? {} : { tls }),
        }),
      );
    }
    // DH_LINK_ARGS passes extra Node flags to the links (e.g. --cpu-prof), as in the ingest benchmark.
    const linkArgs = nodeFlagsOf('DH_LINK_ARGS');
    for (const [shard, broker] of brokers.entries()) {
      const login =
        pki === undefined || linkCert === undefined
          ? ['--url', broker.url, '--password', HUB_PASSWORD]
          : [
              '--url',
              broker.tls!.hubUrl,
              '--mqtt-ca',
              pki.caFile,
              '--mqtt-cert',
              linkCert.certFile,
              '--mqtt-key',
              linkCert.keyFile,
            ];
      const link = spawnDevicehub(
        [
          'link',
          'mqtt',
          ...cluster.cliArgs,
          ...login,
          '--username',
          LINK_USER,
          '--group',
          '',
          '--client-id',
          `scale-link-${shard}`,
          '--entry-time',
          'device',
        ],
        { name: `link ${shard}`, env: { DH_LOG_LEVEL: 'warn' }, nodeArgs: linkArgs },
      );
      links.push(link);
    }
    await Promise.all(links.map((l) => l.ready));
  } catch (error) {
    await dispose();
    throw error;
  }
  return {
    brokers,
    links,
    sizes,
    edgeUrls: brokers.map((b) => (b.tls === undefined ? b.urls : [b.tls.tlsUrl])),
    caFile: pki?.caFile,
    async restartAll() {
      await Promise.all(brokers.map((b) => b.restart()));
    },
    [Symbol.asyncDispose]: dispose,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
