/**
 * The agent's TUF client against a real gateway's repository, through a mirror that a test may
 * make hostile: each refusal of issue 15 (a tampered file, a frozen timestamp, a rollback,
 * metadata mixed from two releases) is its own test, with the UpdateError code the agent reports.
 */
// Redis Cluster pass: once (what this tests is TUF's refusals; the gateway's Redis use is incidental).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { serveGateway } from '../../../gateway/gateway.ts';
import { signRoot } from '../../../gateway/tuf/metadata.ts';
import { createTufKeys } from '../../../gateway/tuf/mod.ts';
import {
  startTufGateway,
  startTufMirror,
  type TufGateway,
  type TufMirror,
  tamper,
  target,
} from '../../../gateway/tuf/testdata/tuf-gateway.ts';
import { useRedis } from '../../../infra/test-redis.ts';
import { startTestPki } from '../../../infra/tls.ts';
import { UpdateError } from './errors.ts';
import { openTufClient, type TufClient } from './tuf-client.ts';

const t = useRedis();

/** `<code>: <message>` of the UpdateError `promise` rejects with. */
async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof UpdateError, `an UpdateError, got ${String(error)}`);
  return `${error.code}: ${error.message}`;
}

describe('TUF client through a mirror of a real gateway', () => {
  let hub: TufGateway;
  let mirror: TufMirror;
  let release = 0;
  /** Shifts the repository's clock: metadata signed "in the past" (a frozen repository). */
  let skewMs = 0;
  const clients: TufClient[] = [];
  before(async () => {
    hub = await startTufGateway(t, { now: () => Date.now() + skewMs });
    mirror = await startTufMirror(hub.gateway);
  });
  after(async () => {
    for (const c of clients) c.close();
    await mirror[Symbol.asyncDispose]();
    await hub[Symbol.asyncDispose]();
  });
  /** A new edge (its own data folder), trusting the gateway's 1.root.json on first use. */
  async function edge(): Promise<TufClient> {
    const client = await openTufClient({
      metadataUrl: mirror.metadataUrl,
      dataDir: await mkdtemp(join(hub.scratch, 'edge-')),
    });
    clients.push(client);
    return client;
  }
  /** Publishes a release with one new target; its versions. */
  async function publish() {
    release += 1;
    return await hub.gateway.tuf?.addTargets([target('elenet', `1.${release}.0`, String(release % 10))]);
  }

  test('an honest mirror: the target with its hash, length and custom; an unknown path is TUF_UNKNOWN_TARGET', async () => {
    mirror.rewrite = undefined;
    await publish();
    const client = await edge();
    await client.refresh();
    const path = `edge-package/elenet/1.${release}.0/elenet-1.${release}.0.tar.gz`;
    const found = await client.target(path);
    assert.deepEqual(found, {
      path,
      length: 1234,
      sha256: String(release % 10).repeat(64),
      custom: { kind: 'edge-package', name: 'elenet', version: `1.${release}.0`, hardware: ['rv1126'] },
    });
    assert.match(
      await refusal(client.target('edge-package/elenet/9.9.9/x.tar.gz')),
      /^TUF_UNKNOWN_TARGET: .*do not name edge-package\/elenet\/9\.9\.9/,
    );
  });

  test('a tampered targets file (a target made longer, signatures kept) is TUF_SIGNATURE', async () => {
    const versions = await publish();
    mirror.rewrite = (file, body) =>
      file === `${versions?.targets.version}.targets.json`
        ? tamper(body, (s) => {
            for (const info of Object.values(s.targets as Record<string, { length: number }>))
              info.length += 1;
          })
        : undefined;
    assert.match(
      await refusal((await edge()).refresh()),
      /^TUF_SIGNATURE: .*targets was signed by 0\/1 keys/,
    );
  });

  test('a tampered timestamp (its snapshot version changed) is TUF_SIGNATURE', async () => {
    await publish();
    mirror.rewrite = (file, body) =>
      file === 'timestamp.json'
        ? tamper(body, (s) => {
            (s.meta as Record<string, { version: number }>)['snapshot.json'] = { version: 1 };
          })
        : undefined;
    assert.match(
      await refusal((await edge()).refresh()),
      /^TUF_SIGNATURE: .*timestamp was signed by 0\/1 keys/,
    );
  });

  test('an older timestamp after a newer one was seen is TUF_ROLLBACK, also after the agent restarts', async () => {
    mirror.rewrite = undefined;
    await publish();
    const old = await (await hub.gateway.app.request('/v1/tuf/metadata/timestamp.json')).text();
    await publish();
    const dataDir = await mkdtemp(join(hub.scratch, 'edge-'));
    const first = await openTufClient({ metadataUrl: mirror.metadataUrl, dataDir });
    clients.push(first);
    await first.refresh();
    mirror.rewrite = (file) => (file === 'timestamp.json' ? old : undefined);
    const rollback = /^TUF_ROLLBACK: .*New timestamp version \d+ is less than current version \d+/;
    assert.match(await refusal(first.refresh()), rollback);
    // The trusted timestamp is on disk: a restarted agent refuses the old one too.
    const restarted = await openTufClient({ metadataUrl: mirror.metadataUrl, dataDir });
    clients.push(restarted);
    assert.match(await refusal(restarted.refresh()), rollback);
  });

  test("release N's snapshot served with release N+1's timestamp is TUF_MIXED", async () => {
    mirror.rewrite = undefined;
    const n = await publish();
    const oldSnapshot = await (
      await hub.gateway.app.request(`/v1/tuf/metadata/${n?.snapshot.version}.snapshot.json`)
    ).text();
    const next = await publish();
    mirror.rewrite = (file) => (file === `${next?.snapshot.version}.snapshot.json` ? oldSnapshot : undefined);
    assert.match(
      await refusal((await edge()).refresh()),
      /^TUF_MIXED: .*Snapshot version doesn't match timestamp/,
    );
  });

  test("targets not the version the snapshot names (release N's with N+1's snapshot) is TUF_MIXED", async () => {
    mirror.rewrite = undefined;
    const n = await publish();
    const oldTargets = await (
      await hub.gateway.app.request(`/v1/tuf/metadata/${n?.targets.version}.targets.json`)
    ).text();
    const next = await publish();
    mirror.rewrite = (file) => (file === `${next?.targets.version}.targets.json` ? oldTargets : undefined);
    assert.match(
      await refusal((await edge()).refresh()),
      /^TUF_MIXED: .*Version \d+ of targets does not match snapshot version \d+/,
    );
  });

  test('over HTTPS the first root is trusted on first use only from a gateway the fleet CA vouches for', async () => {
    const fleet = await startTestPki({ dir: join(hub.scratch, 'pki-fleet') });
    const stranger = await startTestPki({ dir: join(hub.scratch, 'pki-stranger') });
    const served = await serveGateway(hub.gateway, {
      port: 0,
      tls: { certFile: fleet.server.certFile, keyFile: fleet.server.keyFile },
    });
    let trusting: TufClient | undefined;
    try {
      const metadataUrl = `${served.url}/v1/tuf/metadata`;
      const dataDir = await mkdtemp(join(hub.scratch, 'edge-'));
      // A certificate from another CA than the edge's: no root is fetched, nothing is trusted.
      const ca = await readFile(stranger.caFile);
      assert.match(
        await refusal(openTufClient({ metadataUrl, dataDir, ca })),
        /^DOWNLOAD_FAILED: .*1\.root\.json: .*certificate/,
      );
      trusting = await openTufClient({ metadataUrl, dataDir, ca: await readFile(fleet.caFile) });
      await trusting.refresh();
      const root = JSON.parse(await readFile(join(dataDir, 'tuf', 'root.json'), 'utf8'));
      assert.equal(root.signed.version, 1);
    } finally {
      trusting?.close();
      await served.close();
    }
  });

  test("a root provisioned on the device is the only trust: another repository's metadata is TUF_SIGNATURE", async () => {
    mirror.rewrite = undefined;
    const otherKeys = await createTufKeys(join(hub.scratch, `other-keys-${release}`));
    const rootFile = join(hub.scratch, `provisioned-root-${release}.json`);
    await writeFile(rootFile, signRoot(otherKeys, 1, Date.now()).body);
    const served = mirror.served.length;
    const client = await openTufClient({
      metadataUrl: mirror.metadataUrl,
      dataDir: await mkdtemp(join(hub.scratch, 'edge-')),
      rootFile,
    });
    clients.push(client);
    assert.match(await refusal(client.refresh()), /^TUF_SIGNATURE: .*timestamp was signed by 0\/1 keys/);
    assert.ok(!mirror.served.slice(served).includes('1.root.json'), 'no root fetched on first use');
  });

  test('a timestamp past its expiry (a frozen repository: never re-signed) is TUF_EXPIRED', async () => {
    mirror.rewrite = undefined;
    // The last release was signed two days ago (the timestamp lives one) and nothing re-signed it.
    skewMs = -2 * 86400_000;
    try {
      await publish();
    } finally {
      skewMs = 0;
    }
    assert.match(await refusal((await edge()).refresh()), /^TUF_EXPIRED: .*Final timestamp.json is expired/);
    // Signed now, the same repository is accepted again.
    await publish();
    await (await edge()).refresh();
  });

  test('a request the mirror cuts off is asked again; a refusal never is', async () => {
    mirror.rewrite = undefined;
    await publish();
    const retried: string[] = [];
    const client = await openTufClient({
      metadataUrl: mirror.metadataUrl,
      dataDir: await mkdtemp(join(hub.scratch, 'edge-')),
      retries: 2,
      retryDelayMs: 10,
      onRetry: (error) => retried.push(error.code),
    });
    clients.push(client);
    mirror.drop = 2;
    await client.refresh();
    assert.deepEqual(retried, ['DOWNLOAD_FAILED', 'DOWNLOAD_FAILED']);
    mirror.drop = 3;
    assert.match(await refusal(client.refresh()), /^DOWNLOAD_FAILED: /);
    assert.equal(retried.length, 4, 'two more retries, then the third cut is the answer');
    mirror.drop = 0;
    await publish();
    mirror.rewrite = (file, body) =>
      file === 'timestamp.json' ? body.replace(/"version":\d+/, '"version":999') : undefined;
    assert.match(await refusal(client.refresh()), /^TUF_SIGNATURE: /);
    assert.equal(retried.length, 4, 'a refusal is not asked again');
  });
});
