/**
 * The CDN tier as `devicehub cluster` and the demo run it, end to end: a gateway serving HTTPS
 * with an artifact in its object store (the origin), two real nginx caches in front of it over
 * HTTPS checked against the fleet CA, the devicehub configuration's cdn pool written through the
 * API, an edge's configuration ranking the caches, and the agent's downloader fetching the
 * artifact through them — the second download a cache hit, every byte hashed.
 */
// Redis Cluster pass: once (what this tests is nginx, TLS and the downloader; its Redis use is the gateway's incidental bus).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { downloadArtifact } from '../edge/agent/updates/mod.ts';
import { rankByRendezvous } from '../edge/protocol/mod.ts';
import { createApiKey, createGateway, openDatabase, serveGateway } from '../gateway/mod.ts';
import { waitFor } from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { startTestPki } from '../infra/tls.ts';
import { FsObjectStore } from '../objects/mod.ts';
import { startDemoCdn } from './cdn-caches.ts';

const t = useRedis();
const temp = (prefix: string) => mkdtempSync(join(tmpdir(), `devicehub-${prefix}-`));

describe('the CDN tier of the cluster and the demo', { timeout: 90_000 }, () => {
  it('serves a gateway’s artifact through two HTTPS caches named by the cdn pool', async () => {
    const pki = await startTestPki();
    await using database = await openDatabase();
    const objects = await FsObjectStore.open(temp('cdn-objects'));
    await using gateway = await createGateway({ database, bus: t.bus(t.keyspace(), t.connect()), objects });
    await using served = await serveGateway(gateway, {
      port: 0,
      tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile },
    });
    const { key: adminKey } = await createApiKey(database.db, { name: 'admin', scope: 'admin' });
    const call = (method: string, path: string, body?: Uint8Array | string, auth = `Bearer ${adminKey}`) =>
      gateway.app.request(path, {
        method,
        headers: { authorization: auth, 'content-type': 'application/json' },
        body,
      });

    const artifact = randomBytes(2.5 * 1024 * 1024);
    const sha = createHash('sha256').update(artifact).digest('hex');
    const uploaded = await call(
      'POST',
      '/v1/artifacts?kind=edge-package&name=elenet&version=3.0.0&hardware=rv1126&fileName=elenet.run',
      artifact,
    );
    assert.equal(uploaded.status, 201, await uploaded.clone().text());
    const registered = await call('POST', '/v1/edges', JSON.stringify({ id: 'CDN-1' }));
    const { secret } = (await registered.json()) as { secret: string };

    const cdn = await startDemoCdn({
      gateway: { url: served.url, adminKey, caFile: pki.caFile },
      tls: pki.server,
      dir: temp('cdn'),
    });
    assert.ok(cdn !== undefined, 'the caches started');
    await using _cdn = { [Symbol.asyncDispose]: () => cdn.stop() };
    assert.equal(cdn.urls.length, 2);

    const edgeAuth = `Basic ${Buffer.from(`CDN-1:${secret}`).toString('base64')}`;
    const config = (await (await call('GET', '/v1/config/edge/CDN-1', undefined, edgeAuth)).json()) as {
      updates: { mirrors: string[]; metadataUrl: string };
    };
    const pool = cdn.urls.map((url, i) => ({ id: `cdn-${i + 1}`, url, weight: 1 }));
    assert.deepEqual(config.updates, {
      mirrors: rankByRendezvous('CDN-1', pool).map((m) => m.url),
      metadataUrl: `${served.url}/v1/tuf/metadata`,
    });

    const ca = readFileSync(pki.caFile);
    const download = async (mirrors: string[]) => {
      const dest = join(temp('cdn-dl'), 'elenet.run');
      const result = await downloadArtifact({
        mirrors,
        contentPath: `/v1/artifacts/${sha}/content`,
        sha256: sha,
        length: artifact.length,
        dest,
        ca,
      });
      assert.ok(readFileSync(dest).equals(artifact));
      return result;
    };
    const first = await download(config.updates.mirrors);
    assert.equal(first.mirror, config.updates.mirrors[0], 'the edge’s own cache');
    await download(config.updates.mirrors);
    const own = cdn.servers.find((s) => s.url === first.mirror)!;
    await waitFor(() => own.accessLog().length === 2, { message: 'the cache’s log' });
    assert.deepEqual(
      own.accessLog().map((e) => [e.status, e.cache]),
      [
        [200, 'MISS'],
        [200, 'HIT'],
      ],
      'the second download came from the cache',
    );
  });
});
