/**
 * The CDN pool in the devicehub configuration: each edge's configuration carries the mirrors
 * ranked for it by weighted rendezvous (the agent downloads from the first, falls over down the
 * list), a change of the pool moves only the changed mirror's edges, a malformed pool is refused
 * naming the field, and an edge's own `updates` wins over the pool.
 */
// Redis Cluster pass: once (what this tests is the pool's validation and ranking; the configuration's change notices run on the cluster in config.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rankByRendezvous } from '../edge/protocol/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { basic, useGatewayHarness } from './testdata/harness.ts';

const t = useRedis();
const { useDatabase, setupDisposable } = useGatewayHarness(t);

describe('the cdn pool', { timeout: 60_000 }, () => {
  useDatabase('pglite');

  it('ranks the mirrors per edge, moves only a removed mirror’s edges, refuses a bad pool', async () => {
    await using s = await setupDisposable();
    const edges = ['K-1', 'K-2', 'K-3', 'K-4', 'K-5', 'K-6'];
    const secrets = new Map<string, string>();
    for (const id of edges) {
      const reg = await s.call('POST', '/v1/edges', { key: s.keys.operator, body: { id } });
      secrets.set(id, ((await reg.json()) as { secret: string }).secret);
    }
    const updatesOf = async (id: string) => {
      const res = await s.call('GET', `/v1/config/edge/${id}`, { auth: basic(id, secrets.get(id)!) });
      assert.equal(res.status, 200);
      return ((await res.json()) as { updates?: { mirrors: string[]; metadataUrl?: string } }).updates;
    };
    assert.equal(await updatesOf('K-1'), undefined, 'no pool, no updates section');

    const mirrors = [1, 2, 3].map((i) => ({
      id: `cdn-${i}`,
      url: `https://cdn-${i}.example:8443`,
      weight: 1,
    }));
    const metadataUrl = 'https://devicehub.example/v1/tuf/metadata';
    const putPool = (cdn: unknown) =>
      s.call('PUT', '/v1/config/devicehub/global', { key: s.keys.operator, body: { cdn } });
    assert.equal((await putPool({ mirrors, metadataUrl })).status, 200);
    const before = new Map<string, string[]>();
    for (const id of edges) {
      const updates = await updatesOf(id);
      assert.deepEqual(updates, {
        mirrors: rankByRendezvous(id, mirrors).map((m) => m.url),
        metadataUrl,
      });
      before.set(id, updates!.mirrors);
    }
    assert.ok(
      new Set([...before.values()].map((m) => m[0])).size > 1,
      'the edges are spread over the caches',
    );

    assert.equal(
      (await putPool({ mirrors: mirrors.filter((m) => m.id !== 'cdn-2'), metadataUrl })).status,
      200,
    );
    for (const id of edges) {
      const after = (await updatesOf(id))!.mirrors;
      assert.deepEqual(
        after,
        before.get(id)!.filter((url) => !url.includes('cdn-2')),
        `${id} only lost cdn-2`,
      );
    }

    for (const [bad, field] of [
      [{ mirrors: [{ id: 'a', url: 'ftp://x', weight: 1 }] }, 'cdn.mirrors.0.url'],
      [{ mirrors: [mirrors[0], mirrors[0]] }, 'cdn.mirrors'],
      [{ mirrors: [{ ...mirrors[0], weight: -1 }] }, 'cdn.mirrors.0.weight'],
      [{ mirrors, metadataUrl: 'not a url' }, 'cdn.metadataUrl'],
    ] as const) {
      const res = await putPool(bad);
      assert.equal(res.status, 400, JSON.stringify(bad));
      const { error } = (await res.json()) as { error: { message: string } };
      assert.ok(error.message.includes(field), `${error.message} names ${field}`);
    }

    const own = { mirrors: ['https://local-cache.building-7:8443'] };
    const put = await s.call('PUT', '/v1/config/edge/module:K-1', {
      key: s.keys.operator,
      body: { updates: own },
    });
    assert.equal(put.status, 200);
    assert.deepEqual(await updatesOf('K-1'), own, 'an edge’s own mirrors win over the pool');
  });
});
