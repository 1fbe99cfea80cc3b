/**
 * The recognition workers of `devicehub cluster` (issue 17): `workers` processes of `devicehub
 * recognize` (none for 0) `recognize-1` … on the cluster's Redis and the gateways' S3Proxy bucket
 * (where the edges' frames are), each with /metrics on a port of its own; compose's recognize-1 and
 * recognize-2. The model is the provisioned one (infra/provision-vision.sh, run by `npm run
 * cluster`), checked before any starts so a missing file is one clear error. One thread each: the
 * default is one worker here (2 cores, shared with everything else the cluster runs).
 */
import { freePort } from '../infra/mod.ts';
import { modelFile } from '../infra/models.ts';
import type { ClusterParts, ClusterServers } from './cluster-start.ts';

export async function startRecognizeWorkers(
  parts: ClusterParts,
  servers: ClusterServers,
  o: { workers: number },
): Promise<{ metrics: string[] }> {
  if (o.workers === 0) return { metrics: [] };
  const model = modelFile();
  parts.step(`starting ${o.workers} recognition worker(s) (${model.name}@${model.version})`);
  const metrics: string[] = [];
  const workers = [];
  for (let i = 1; i <= o.workers; i++) {
    const metricsPort = await freePort();
    metrics.push(`http://127.0.0.1:${metricsPort}/metrics`);
    workers.push(
      parts.spawn(
        [
          'recognize',
          ...servers.cliArgs,
          ...['--id', `recognize-${i}`, '--metrics-port', String(metricsPort)],
          ...['--object-store', servers.objectStore, '--model-file', model.path],
          // No GPU here: skip the CUDA provider's attempt.
          ...['--providers', 'cpu', '--threads', '1'],
        ],
        `recognize-${i}`,
        servers.objectStoreEnv,
      ).ready,
    );
  }
  await Promise.all(workers);
  return { metrics };
}
