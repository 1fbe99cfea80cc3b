/**
 * The job workers of `devicehub cluster`, each `name-1` … a process with /metrics on a port of
 * its own (none of a kind for 0):
 *
 * - clip workers (`devicehub clips`, issue 16) and the Ezviz stand-in they talk to (the cloud is
 *   outside the cluster: `devicehub ezviz-standin`, 200 ms per call like the real one), sharing
 *   PostgreSQL, the gateways' object store and one Ezviz budget in Redis; compose's clips-1/-2;
 * - recognition workers (`devicehub recognize`, issue 17) on the cluster's Redis and the gateways'
 *   S3Proxy bucket (where the edges' frames are); compose's recognize-1/-2. The model is the
 *   provisioned one (infra/provision-vision.sh, run by `npm run cluster`), checked before any
 *   starts so a missing file is one clear error. One thread each: the default is one worker here
 *   (2 cores, shared with everything else the cluster runs).
 */
import { freePorts } from '../infra/mod.ts';
import { modelFile } from '../infra/models.ts';
import type { ClusterParts, ClusterServers } from './cluster-start.ts';

/** `count` processes `devicehub <args(id)>` named `<name>-1` …, started; their /metrics URLs. */
async function spawnWorkers(
  parts: ClusterParts,
  o: { name: string; count: number; args: (id: string) => string[]; env?: Record<string, string> },
): Promise<string[]> {
  const metrics: string[] = [];
  const started = [];
  const ports = await freePorts(o.count);
  for (let i = 1; i <= o.count; i++) {
    const id = `${o.name}-${i}`;
    const metricsPort = ports[i - 1]!;
    metrics.push(`http://127.0.0.1:${metricsPort}/metrics`);
    started.push(parts.spawn([...o.args(id), '--metrics-port', String(metricsPort)], id, o.env).ready);
  }
  await Promise.all(started);
  return metrics;
}

export async function startClipWorkers(
  parts: ClusterParts,
  servers: ClusterServers,
  o: { workers: number },
): Promise<{ ezvizUrl: string | undefined; metrics: string[] }> {
  if (o.workers === 0) return { ezvizUrl: undefined, metrics: [] };
  parts.step(`starting the Ezviz stand-in and ${o.workers} clip worker(s)`);
  const standIn = (await parts.spawn(['ezviz-standin', '--port', '0', '--latency-ms', '200'], 'ezviz-standin')
    .ready) as { url: string; appKey: string; appSecret: string };
  const metrics = await spawnWorkers(parts, {
    name: 'clips',
    count: o.workers,
    args: (id) => [
      'clips',
      ...servers.cliArgs,
      ...['--id', id],
      ...['--database-url', servers.databaseUrl, '--object-store', servers.objectStore],
      ...['--ezviz', standIn.url, '--ezviz-app-key', standIn.appKey],
    ],
    env: { ...servers.objectStoreEnv, DH_EZVIZ_APP_SECRET: standIn.appSecret },
  });
  return { ezvizUrl: standIn.url, metrics };
}

export async function startRecognizeWorkers(
  parts: ClusterParts,
  servers: ClusterServers,
  o: { workers: number },
): Promise<{ metrics: string[] }> {
  if (o.workers === 0) return { metrics: [] };
  const model = modelFile();
  parts.step(`starting ${o.workers} recognition worker(s) (${model.name}@${model.version})`);
  const metrics = await spawnWorkers(parts, {
    name: 'recognize',
    count: o.workers,
    args: (id) => [
      'recognize',
      ...servers.cliArgs,
      ...['--id', id],
      ...['--object-store', servers.objectStore, '--model-file', model.path],
      // No GPU here: skip the CUDA provider's attempt.
      ...['--providers', 'cpu', '--threads', '1'],
    ],
    env: servers.objectStoreEnv,
  });
  return { metrics };
}
