/**
 * The fleet through the gateway, in-process over a real Redis and a hub node, once over PGlite and
 * once over PostgreSQL: registration into the fleet set the links check, the edges' live state
 * (paged), commands queued for them, deregistration and the audit log.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActorClient } from '../actors/mod.ts';
import { edgeActor } from '../edge/mod.ts';
import { waitFor } from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { auditLog } from './db/schema.ts';
import { DATABASES, useGatewayHarness } from './testdata/harness.ts';

const t = useRedis();
const { useDatabase, setupDisposable } = useGatewayHarness(t);

for (const which of DATABASES)
  describe(`gateway fleet (${which})`, { timeout: 180_000 }, () => {
    useDatabase(which);

    it('registers edges into the fleet, shows their live state and queues commands for them', async () => {
      await using s = await setupDisposable();
      for (const id of ['F-1', 'F-2', 'F-3'])
        assert.equal(
          (await s.call('POST', '/v1/edges', { key: s.keys.operator, body: { id, groupId: 'b7' } })).status,
          201,
        );
      assert.equal(
        (await s.call('POST', '/v1/edges', { key: s.keys.operator, body: { id: 'F-1' } })).status,
        409,
      );
      assert.deepEqual(
        (await t.redis.smembers(s.keyspace.fleet)).sort(),
        ['F-1', 'F-2', 'F-3'],
        'the links will take them',
      );
      // A command to an edge whose actor has not run yet waits in its mailbox.
      const sent = await s.call('POST', '/v1/edges/F-2/commands', {
        key: s.keys.service,
        body: { type: 'reboot', deadlineSeconds: 30 },
      });
      assert.equal(sent.status, 202);
      const { id: commandId } = (await sent.json()) as { id: string };
      const status = async () =>
        (
          (await (
            await s.call('GET', `/v1/edges/F-2/commands/${commandId}`, { key: s.keys.service })
          ).json()) as { status: string }
        ).status;
      assert.equal(await status(), 'queued');
      assert.equal(
        (await s.call('GET', '/v1/edges/F-2/commands/c-made-up', { key: s.keys.service })).status,
        404,
      );
      await using _node = await t.hub(s.keyspace);
      await createActorClient(t.bus(s.keyspace), edgeActor).send('F-1', 'telemetry', {
        kind: 'status',
        seq: 1,
        boot: 'b',
        ts: 1,
        data: { floor: 9 },
      });
      await waitFor(async () => (await status()) === 'sent', { message: 'the actor to take the command' });
      await waitFor(
        async () =>
          (
            (await (await s.call('GET', '/v1/edges/F-1', { key: s.keys.service })).json()) as {
              online: boolean;
            }
          ).online,
        { message: 'F-1 online' },
      );
      const f1 = (await (await s.call('GET', '/v1/edges/F-1', { key: s.keys.service })).json()) as Record<
        string,
        unknown
      >;
      assert.deepEqual(f1.status, { floor: 9 });
      assert.equal(f1.groupId, 'b7');
      assert.equal(typeof f1.node, 'string', 'the node holding its shard');
      await waitFor(
        async () =>
          /devicehub_node_shards\{node="[^"]+"\} [1-9]/.test(await (await s.call('GET', '/metrics')).text()),
        {
          message: 'the hub node’s published stats in the metrics',
        },
      );
      const page = (await (await s.call('GET', '/v1/edges?limit=2', { key: s.keys.service })).json()) as {
        edges: { id: string }[];
        next: string;
      };
      assert.deepEqual(
        page.edges.map((e) => e.id),
        ['F-1', 'F-2'],
      );
      const rest = (await (
        await s.call('GET', `/v1/edges?limit=2&after=${page.next}`, { key: s.keys.service })
      ).json()) as { edges: { id: string }[] };
      assert.deepEqual(
        rest.edges.map((e) => e.id),
        ['F-3'],
      );
      assert.equal((await s.call('DELETE', '/v1/edges/F-3', { key: s.keys.operator })).status, 204);
      assert.ok(!(await t.redis.sismember(s.keyspace.fleet, 'F-3')));
      const audited = (await s.database.db.select().from(auditLog)).map((a) => `${a.action} ${a.target}`);
      for (const line of ['edge.register edge/F-1', 'edge.command edge/F-2', 'edge.deregister edge/F-3'])
        assert.ok(audited.includes(line), line);
    });
  });
