/**
 * The artifacts API on a gateway without an object store (no `--object-store`): its routes answer
 * 503. The database and the admin key are the artifacts rig's (testdata/artifacts-rig.ts).
 */
// Redis Cluster pass: once (what this tests is the routes without an object store; its Redis use is incidental).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { useRedis } from '../../infra/test-redis.ts';
import { createGateway } from '../gateway.ts';
import { openArtifactsRig } from './testdata/artifacts-rig.ts';

const t = useRedis();
const root = mkdtempSync(join(tmpdir(), 'dh-artifacts-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('artifacts without an object store', { timeout: 60_000 }, () => {
  let s: Awaited<ReturnType<typeof openArtifactsRig>>;
  before(async () => {
    s = await openArtifactsRig(t, root);
  });
  after(() => s[Symbol.asyncDispose]());

  it('without an object store the artifact routes answer 503', async () => {
    await using gateway = await createGateway({
      database: s.database,
      bus: t.bus(t.keyspace(), t.connect()),
    });
    const res = await gateway.app.request('/v1/artifacts', {
      headers: { authorization: `Bearer ${s.admin}` },
    });
    assert.equal(res.status, 503);
  });
});
