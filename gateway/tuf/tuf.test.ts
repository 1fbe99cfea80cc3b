/**
 * The hub's TUF repository on a real PostgreSQL: two gateways signing at once, the public routes
 * and their caching, releases, artifacts becoming targets, and the upkeep re-signing every role
 * (root with the same keys). Thresholds, the timestamp's upkeep and the keys folder:
 * tuf-keys.test.ts.
 */
// Redis Cluster pass: once (what this tests is signing in PostgreSQL and TUF's checks; Redis carries only the upkeep's named lease, which the outbox sink's tests run on the cluster).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../actors/mod.ts';
import { openTufClient } from '../../edge/agent/updates/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { createApiKey } from '../auth.ts';
import { createGateway } from '../gateway.ts';
import { createTufKeys, startTuf, TufRepository } from './mod.ts';
import {
  codeOf,
  startTufGateway,
  startTufMirror,
  type TufGateway,
  target,
  useTufDatabases,
} from './testdata/tuf-gateway.ts';

const t = useRedis();
const freshDatabase = useTufDatabases();
type Signed = { signed: { targets: object; roles: object; consistent_snapshot: boolean } };

describe('a repository shared by two gateways on one PostgreSQL', () => {
  test('signing at once from both: one version at a time, every target kept, the same bytes served', async () => {
    const url = await freshDatabase();
    await using a = await startTufGateway(t, { databaseUrl: url });
    await using b = await startTufGateway(t, { databaseUrl: url, keysDir: a.keysDir });
    const adds = [];
    for (let i = 0; i < 8; i++) {
      adds.push(a.gateway.tuf?.addTargets([target('elenet', `2.${i}.0`, 'a')]));
      adds.push(b.gateway.tuf?.addTargets([target('litefcccore', `3.${i}.0`, 'b')]));
    }
    await Promise.all(adds);
    const versions = await a.gateway.tuf?.versions();
    assert.deepEqual(
      { targets: versions?.targets.version, snapshot: versions?.snapshot.version },
      { targets: 17, snapshot: 17 },
    );
    // Each targets version lists one target more than the one before: no release lost another's target.
    for (let v = 1; v <= 17; v++) {
      const body = (await (
        await b.gateway.app.request(`/v1/tuf/metadata/${v}.targets.json`)
      ).json()) as Signed;
      assert.equal(Object.keys(body.signed.targets).length, v - 1, `${v}.targets.json`);
    }
    const [fromA, fromB] = await Promise.all(
      [a, b].map(async (g) => await (await g.gateway.app.request('/v1/tuf/metadata/timestamp.json')).text()),
    );
    assert.equal(fromA, fromB);
    assert.equal(JSON.parse(fromA as string).signed.meta['snapshot.json'].version, 17);

    // Other keys on the same database: a root rotation, which the repository refuses to do.
    const other = await createTufKeys(join(a.scratch, 'other-keys'));
    assert.match(
      await codeOf(TufRepository.open(a.database.db, other, { log: silentLogger })),
      /^TUF_ROOT_MISMATCH: .*root: other keys/,
    );
  });
});

describe('one repository: its routes, releases, artifacts and upkeep', () => {
  let url: string;
  let hub: TufGateway;
  /** The repository's clock offset: the last test moves it past half of every role's lifetime. */
  let skewMs = 0;
  before(async () => {
    url = await freshDatabase();
    hub = await startTufGateway(t, { databaseUrl: url, objects: true, now: () => Date.now() + skewMs });
  });
  after(async () => {
    await hub?.[Symbol.asyncDispose]();
  });

  test('public, timestamp cached briefly, versioned files immutable, ETags, 404/400, 503 without keys', async () => {
    const get = (file: string, headers: Record<string, string> = {}) =>
      hub.gateway.app.request(`/v1/tuf/metadata/${file}`, { headers });
    const timestamp = await get('timestamp.json');
    assert.equal(timestamp.status, 200);
    assert.equal(timestamp.headers.get('cache-control'), 'public, max-age=5');
    assert.equal(timestamp.headers.get('content-type'), 'application/json');
    const etag = timestamp.headers.get('etag') ?? '';
    assert.equal((await get('timestamp.json', { 'if-none-match': etag })).status, 304);
    const root = await get('1.root.json');
    assert.equal(root.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const rootBody = (await root.json()) as Signed;
    assert.equal(rootBody.signed.consistent_snapshot, true);
    assert.deepEqual(Object.keys(rootBody.signed.roles).sort(), ['root', 'snapshot', 'targets', 'timestamp']);
    assert.equal((await get('2.root.json')).status, 404);
    assert.equal((await get('7.targets.json')).status, 404);
    // Found by Schemathesis: a version past PostgreSQL's integer is no version, not a 500.
    assert.equal((await get('9963705626.snapshot.json')).status, 404);
    assert.equal((await get('snapshot.json')).status, 400);
    assert.equal((await get('..%2Froot.json')).status, 400);
    const metrics = await (await hub.gateway.app.request('/metrics')).text();
    assert.match(metrics, /devicehub_tuf_version\{role="root"\} 1\n/);
    const left = Number(/devicehub_tuf_expires_in_seconds\{role="timestamp"\} (\d+)/.exec(metrics)?.[1]);
    assert.ok(left > 86400 - 120 && left <= 86400, `timestamp expires in ${left} s`);

    const database = await (await import('../db/database.ts')).openDatabase({ url });
    const plain = await createGateway({ database, bus: t.bus(t.keyspace(), t.connect()) });
    try {
      const refused = await plain.app.request('/v1/tuf/metadata/timestamp.json');
      assert.equal(refused.status, 503);
      assert.match(
        ((await refused.json()) as { error: { message: string } }).error.message,
        /--tuf-keys-dir/,
      );
    } finally {
      await plain.stop();
      await database.close();
    }
  });

  test('a target signed again with the same hash is no new release; with another hash it is refused', async () => {
    const tuf = hub.gateway.tuf as TufRepository;
    const first = await tuf.addTargets([target('elenet', '1.0.0', 'c')]);
    const again = await tuf.addTargets([target('elenet', '1.0.0', 'c')]);
    assert.deepEqual(again, first);
    assert.match(
      await codeOf(tuf.addTargets([target('elenet', '1.0.0', 'd')])),
      /^TUF_TARGET: Target edge-package\/elenet\/1.0.0\/elenet-1.0.0.tar.gz is already signed/,
    );
    assert.match(
      await codeOf(tuf.addTargets([{ ...target('elenet', '1.0.1'), path: 'edge-package/../root.json' }])),
      /^TUF_TARGET: Target path/,
    );
  });

  test('an artifact uploaded through the API is signed as <kind>/<name>/<version>/<fileName> with custom', async () => {
    const { key } = await createApiKey(hub.database.db, { name: 'tuf-admin', scope: 'admin' });
    const bytes = Buffer.from('a model for number plates');
    const uploaded = await hub.gateway.app.request(
      '/v1/artifacts/model/plates/3?hardware=rv1126&fileName=plates.rknn',
      { method: 'PUT', headers: { authorization: `Bearer ${key}` }, body: bytes },
    );
    assert.equal(uploaded.status, 201, await uploaded.clone().text());
    await using mirror = await startTufMirror(hub.gateway);
    const client = await openTufClient({
      metadataUrl: mirror.metadataUrl,
      dataDir: await mkdtemp(join(hub.scratch, 'edge-')),
    });
    try {
      assert.deepEqual(await client.target('model/plates/3/plates.rknn'), {
        path: 'model/plates/3/plates.rknn',
        length: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        custom: { kind: 'model', name: 'plates', version: '3', hardware: ['rv1126'] },
      });
    } finally {
      client.close();
    }
  });

  test("artifacts whose hook never ran (a crash before signing) are signed from the catalog's list at start", async () => {
    const missed = {
      sha256: 'e'.repeat(64),
      kind: 'screen-bundle',
      name: 'lobby',
      version: '7',
      hardware: [],
      size: 4096,
      fileName: 'lobby.tar.gz',
    };
    const catalog = { onRegistered: () => undefined, list: async () => [missed] };
    await using tuf = await startTuf(
      { keysDir: hub.keysDir, upkeepEveryMs: 0 },
      {
        db: hub.database.db,
        bus: t.bus(t.keyspace()),
        holder: 'test',
        log: silentLogger,
        artifacts: catalog,
      },
    );
    const latest = await tuf.repository.file(
      `${(await tuf.repository.versions()).targets.version}.targets.json`,
    );
    const targets = JSON.parse(latest?.body ?? '{}').signed.targets;
    assert.deepEqual(targets['screen-bundle/lobby/7/lobby.tar.gz'], {
      length: 4096,
      hashes: { sha256: 'e'.repeat(64) },
      custom: { kind: 'screen-bundle', name: 'lobby', version: '7', hardware: [] },
    });
  });

  test('past half their lifetime every role is re-signed, root with the same keys; a client follows root 2', async () => {
    await using mirror = await startTufMirror(hub.gateway);
    const dataDir = await mkdtemp(join(hub.scratch, 'edge-'));
    const client = await openTufClient({ metadataUrl: mirror.metadataUrl, dataDir });
    try {
      await client.refresh();
      const before = await (hub.gateway.tuf as TufRepository).versions();
      assert.equal(before.root.version, 1);
      skewMs = 200 * 86400_000; // past half of root's year, of targets' 90 days, …
      const after = await (hub.gateway.tuf as TufRepository).upkeep();
      assert.deepEqual(Object.fromEntries(Object.entries(after).map(([r, v]) => [r, v.version])), {
        root: 2,
        targets: before.targets.version + 1,
        snapshot: before.snapshot.version + 1,
        timestamp: before.timestamp.version + 1,
      });
      await client.refresh();
      const trusted = JSON.parse(await readFile(join(dataDir, 'tuf', 'root.json'), 'utf8'));
      assert.equal(trusted.signed.version, 2);
    } finally {
      client.close();
    }
  });
});
