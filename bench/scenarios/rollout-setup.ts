/**
 * What the `rollout` scenario runs on, each its own process: mosquitto with every simulated edge's
 * password and an MQTT link (which relays the `update` commands down), the gateway (embedded
 * PGlite, a filesystem object store, TUF keys made for the run) as the artifact origin, and two
 * nginx caches in front of it, behind a byte meter (in this process). Also the artifact upload
 * (POST /v1/artifacts, admin) and the root the edges trust.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { simulatedEdgeId, simulatedPassword } from '../../edge/mod.ts';
import { type NginxServer, startNginxCache } from '../../infra/mod.ts';
import type { BenchCluster } from '../cluster.ts';
import { registeredFleet, startMqttHub } from '../fleet.ts';
import { type OriginMeter, startOriginMeter } from '../origin-meter.ts';

/** mosquitto knowing every edge and the link user, and `devicehub link mqtt` (with its downlink relay). */
export function startEdgeBroker(cluster: BenchCluster, edges: number) {
  const users: Record<string, string> = {};
  for (let i = 0; i < edges; i++) users[simulatedEdgeId(i)] = simulatedPassword(simulatedEdgeId(i));
  return startMqttHub(cluster, users);
}

/**
 * The gateway (the origin), its own process (`devicehub gateway`, embedded PGlite): N registered
 * edges, an admin and an operator key, TUF keys made for the run (`--tuf-create`), a filesystem
 * object store.
 */
export async function startOrigin(cluster: BenchCluster, edges: number) {
  const dir = mkdtempSync(join(tmpdir(), 'dh-bench-origin-'));
  const fleet = registeredFleet(cluster, edges, { admin: true });
  const args = [
    ...['--tuf-keys-dir', join(dir, 'tuf'), '--tuf-create'],
    ...['--object-store', pathToFileURL(join(dir, 'objects')).href],
  ];
  const gateway = await cluster.startGateway(args, fleet.prepare);
  return {
    url: gateway.url,
    ids: fleet.ids,
    keys: { admin: fleet.adminKey(), operator: fleet.key() },
    async [Symbol.asyncDispose]() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The byte meter in front of the origin and two nginx caches in front of the meter. */
export async function startCdn(originUrl: string) {
  const meter: OriginMeter = await startOriginMeter(originUrl);
  const caches: NginxServer[] = [];
  try {
    for (let c = 1; c <= 2; c++)
      caches.push(
        await startNginxCache({ origin: meter.url, dir: mkdtempSync(join(tmpdir(), `dh-bench-cdn-${c}-`)) }),
      );
  } catch (error) {
    for (const cache of caches) await cache[Symbol.asyncDispose]();
    await meter[Symbol.asyncDispose]();
    throw error;
  }
  return {
    meter,
    caches,
    /** Requests for artifact content the caches answered, their bytes, and how many were hits. */
    served() {
      let requests = 0;
      let hits = 0;
      let bytes = 0;
      for (const cache of caches)
        for (const e of cache.accessLog()) {
          if (!e.uri.endsWith('/content')) continue;
          requests++;
          bytes += e.bytes;
          if (e.cache === 'HIT') hits++;
        }
      return { requests, hits, bytes };
    },
    async [Symbol.asyncDispose]() {
      for (const cache of caches) await cache[Symbol.asyncDispose]();
      await meter[Symbol.asyncDispose]();
    },
  };
}

export interface UploadedArtifact {
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
  readonly size: number;
  readonly fileName: string;
}

/** Uploads `mb` MiB of random bytes as edge-package `name` `version` (POST /v1/artifacts, admin). */
export async function uploadArtifact(
  gatewayUrl: string,
  adminKey: string,
  o: { name: string; version: string; mb: number },
): Promise<UploadedArtifact> {
  const body = randomBytes(Math.round(o.mb * 1024 * 1024));
  const sha256 = createHash('sha256').update(body).digest('hex');
  // No hardware: it fits every simulated edge (the rollout narrows its members to what fits).
  const query = new URLSearchParams({
    kind: 'edge-package',
    name: o.name,
    version: o.version,
    fileName: `${o.name}-${o.version}.bin`,
  });
  const answer = await fetch(`${gatewayUrl}/v1/artifacts?${query}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${adminKey}`,
      'content-type': 'application/octet-stream',
      'x-content-sha256': sha256,
    },
    body,
  });
  if (!answer.ok) throw new Error(`artifact upload: ${answer.status} ${await answer.text()}`);
  return { name: o.name, version: o.version, sha256, size: body.length, fileName: query.get('fileName')! };
}

/** The gateway's first root, written where every simulated edge reads it (provisioned on a device). */
export async function trustedRoot(gatewayUrl: string): Promise<string> {
  const answer = await fetch(`${gatewayUrl}/v1/tuf/metadata/1.root.json`);
  if (!answer.ok) throw new Error(`TUF root: ${answer.status} ${await answer.text()}`);
  const file = join(mkdtempSync(join(tmpdir(), 'dh-bench-root-')), '1.root.json');
  writeFileSync(file, await answer.text());
  return file;
}
