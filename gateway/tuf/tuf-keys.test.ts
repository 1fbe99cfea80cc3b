/**
 * The hub's TUF keys on a real PostgreSQL: a threshold of 2 on targets, the upkeep that re-signs a
 * 2 s timestamp well before it expires, and the keys folder (created once, its refusals, gateways
 * creating it together). The repository, its routes and artifacts: tuf.test.ts.
 */
// Redis Cluster pass: once (what this tests is signing in PostgreSQL and TUF's checks; Redis carries only the upkeep's named lease, which the outbox sink's tests run on the cluster).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../actors/mod.ts';
import { openTufClient } from '../../edge/agent/updates/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { openDatabase } from '../db/database.ts';
import { createTufKeys, loadTufKeys, startTufUpkeep, TufError, TufRepository } from './mod.ts';
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

describe('threshold 2 on targets, a timestamp of 2 s and the upkeep', () => {
  let hub: TufGateway;
  before(async () => {
    const roles = {
      targets: { threshold: 2, expiresSeconds: 3600 },
      timestamp: { threshold: 1, expiresSeconds: 2 },
    };
    hub = await startTufGateway(t, { databaseUrl: await freshDatabase(), roles, upkeepEveryMs: 200 });
  });
  after(async () => {
    await hub?.[Symbol.asyncDispose]();
  });

  test('threshold 2 on targets: both signatures accepted, one signature refused', async () => {
    const versions = await hub.gateway.tuf?.addTargets([target('elenet', '5.0.0', 'f')]);
    const file = `${versions?.targets.version}.targets.json`;
    await using mirror = await startTufMirror(hub.gateway);
    const honest = await openTufClient({
      metadataUrl: mirror.metadataUrl,
      dataDir: await mkdtemp(join(hub.scratch, 'edge-')),
    });
    const oneSignature = await openTufClient({
      metadataUrl: mirror.metadataUrl,
      dataDir: await mkdtemp(join(hub.scratch, 'edge-')),
    });
    try {
      await honest.refresh();
      assert.equal(
        (await honest.target('edge-package/elenet/5.0.0/elenet-5.0.0.tar.gz')).sha256,
        'f'.repeat(64),
      );
      mirror.rewrite = (name, body) => {
        if (name !== file) return undefined;
        const parsed = JSON.parse(body);
        assert.equal(parsed.signatures.length, 2);
        parsed.signatures = parsed.signatures.slice(0, 1);
        return JSON.stringify(parsed);
      };
      assert.match(await codeOf(oneSignature.refresh()), /^TUF_SIGNATURE: .*targets was signed by 1\/2 keys/);
    } finally {
      honest.close();
      oneSignature.close();
    }
  });

  test('the upkeep re-signs the timestamp well before it expires; an edge refreshes past the first one', async () => {
    const tuf = hub.gateway.tuf as TufRepository;
    const first = (await tuf.versions()).timestamp;
    const resigned = await waitFor(
      async () => {
        const now = (await tuf.versions()).timestamp;
        return now.version > first.version + 1 && now;
      },
      { message: 'the timestamp re-signed twice', timeoutMs: 8000 },
    );
    // Re-signed at half its life: the newest never had less than half its lifetime left.
    assert.ok(resigned.expiresAt.getTime() > first.expiresAt.getTime());
    await waitFor(() => Date.now() > first.expiresAt.getTime() + 10, {
      message: 'the first timestamp to expire',
    });
    await using mirror = await startTufMirror(hub.gateway);
    const client = await openTufClient({
      metadataUrl: mirror.metadataUrl,
      dataDir: await mkdtemp(join(hub.scratch, 'edge-')),
    });
    try {
      await client.refresh();
    } finally {
      client.close();
    }
  });

  test('a catch-up that fails (an artifact refused as a target) does not stop the re-signing', async () => {
    await using database = await openDatabase({ url: await freshDatabase() });
    let skewMs = 0;
    const keys = await loadTufKeys(hub.keysDir);
    const tuf = await TufRepository.open(database.db, keys, {
      log: silentLogger,
      now: () => Date.now() + skewMs,
    });
    const first = (await tuf.versions()).timestamp.version;
    skewMs = 1500; // past half of the 2 s timestamp: due on the next tick
    let refusals = 0;
    const upkeep = startTufUpkeep(tuf, {
      bus: t.bus(t.keyspace()),
      holder: 'catch-up-refused',
      log: silentLogger,
      everyMs: 100,
      catchUp: async () => {
        refusals++;
        throw new TufError('TUF_TARGET', 'refused for the test');
      },
    });
    try {
      await waitFor(async () => refusals > 0 && (await tuf.versions()).timestamp.version > first, {
        message: 'the timestamp re-signed although the catch-up failed',
      });
    } finally {
      await upkeep.stop();
    }
  });
});

describe('the keys folder', () => {
  test('created once and kept; too few keys, a bad roles.json, a key that is not ed25519 are refused', async () => {
    const dir = await mkdtemp(join((await import('node:os')).tmpdir(), 'dh-tuf-keys-'));
    const created = await createTufKeys(dir, { roles: { targets: { threshold: 2 } } });
    assert.equal(created.targets.signers.length, 2);
    assert.equal(created.targets.threshold, 2);
    const again = await createTufKeys(dir);
    assert.deepEqual(
      again.root.signers.map((s) => s.keyId),
      created.root.signers.map((s) => s.keyId),
    );
    const roles = JSON.parse(await readFile(join(dir, 'roles.json'), 'utf8'));
    await writeFile(
      join(dir, 'roles.json'),
      JSON.stringify({ ...roles, snapshot: { threshold: 3, expiresSeconds: 60 } }),
    );
    assert.match(
      await codeOf(loadTufKeys(dir)),
      /^TUF_KEYS: Cannot sign snapshot: threshold 3 needs 3 key files/,
    );
    await writeFile(join(dir, 'roles.json'), JSON.stringify({ ...roles, timestamp: { threshold: 1 } }));
    assert.match(await codeOf(loadTufKeys(dir)), /^TUF_ROLES: .*timestamp.expiresSeconds must be an integer/);
    await writeFile(join(dir, 'roles.json'), JSON.stringify(roles));
    const { generateKeyPairSync } = await import('node:crypto');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    await writeFile(join(dir, 'timestamp-2.pem'), rsa);
    assert.match(await codeOf(loadTufKeys(dir)), /^TUF_KEYS: .*timestamp-2.pem is a rsa key/);

    // Gateways of a cluster starting together with --tuf-create on one folder end with the same keys.
    const shared = join(dir, 'shared');
    const all = await Promise.all([1, 2, 3, 4].map(() => createTufKeys(shared)));
    const ids = all.map((k) =>
      Object.values(k)
        .map((r) => r.signers.map((s) => s.keyId).join())
        .join('|'),
    );
    assert.equal(new Set(ids).size, 1, 'one set of keys');
    assert.equal(all[0]?.root.signers.length, 1);
  });
});
