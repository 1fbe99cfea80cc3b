/**
 * Tunnels through the gateway over a real Redis, PostgreSQL (PGlite) and a hub node: the
 * lifecycle (requested → open → closed, expiry by the actor's timer, failure), one tunnel per
 * edge and service, and the port pool under contention between two gateway instances. The edge
 * answering the actor's commands is played by the test reading the outbox (the MQTT/Kafka path to
 * a real agent is the links' and issue 5's tests).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { createActorClient } from '../../actors/mod.ts';
import { allocatedPorts, type Bus } from '../../bus/mod.ts';
import { edgeActor } from '../../edge/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { createApiKey } from '../auth.ts';
import { type Database, openDatabase } from '../db/database.ts';
import { auditLog, tunnels } from '../db/schema.ts';
import { startGateways } from '../testdata/gateways.ts';

const t = useRedis();
const open: (Database | { stop(): Promise<void> })[] = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) 'stop' in x ? await x.stop() : await x.close();
});

interface Tunnel {
  id: string;
  state: string;
  reason: string | null;
  services: { name: string; remotePort: number | null; connect: string | null }[];
}

/** Plays the edges: answers every tunnel.open command in the outboxes (ok unless `refuse` says). */
function edgesAnswering(bus: Bus, refuse: (edgeId: string) => string | undefined) {
  const { redis, keyspace } = bus;
  const client = createActorClient(bus, edgeActor);
  const last = Array.from({ length: keyspace.tagGroups }, () => '0');
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (let g = 0; g < keyspace.tagGroups; g++) {
        const entries = (await redis.xrange(keyspace.outbox(g), `(${last[g]}`, '+')) as [string, string[]][];
        for (const [id, fields] of entries) {
          last[g] = id;
          const e = JSON.parse(fields[1]!) as { type: string; command?: string; id: string; edgeId: string };
          if (e.type !== 'command' || e.command !== 'tunnel.open') continue;
          const error = refuse(e.edgeId);
          await client.send(e.edgeId, 'commandResult', {
            id: e.id,
            ok: error === undefined,
            ...(error === undefined ? { result: { frpc: 'running' } } : { error }),
          });
        }
      }
      // A stand-in edge's poll interval (time passing is the point: it answers what it finds).
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const stop = () => {
    stopped = true;
    return loop;
  };
  return { stop };
}

async function setup(o: { ports?: { low: number; high: number } } = {}) {
  const keyspace = t.keyspace();
  open.push(await t.hub(keyspace));
  const database = await openDatabase();
  open.push(database);
  const gateways = await startGateways(2, () => t.bus(keyspace, t.connect()), {
    database,
    tunnels: { ports: o.ports ?? { low: 30_000, high: 30_099 }, publicHost: 'tunnels.example.com' },
  });
  open.push(...gateways);
  const keys = {
    operator: (await createApiKey(database.db, { name: 'op', scope: 'operator' })).key,
    service: (await createApiKey(database.db, { name: 'svc', scope: 'service' })).key,
  };
  const call = async (g: number, method: string, path: string, key: string, body?: unknown) => {
    const res = await gateways[g]!.app.request(path, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      status: res.status,
      body: (await res.json()) as Tunnel & { error?: { code: string; message: string } },
    };
  };
  const register = async (...ids: string[]) => {
    for (const id of ids)
      assert.equal((await call(0, 'POST', '/v1/edges', keys.operator, { id })).status, 201);
  };
  const state = async (edgeId: string, id: string) =>
    (await call(1, 'GET', `/v1/edges/${edgeId}/tunnels/${id}`, keys.service)).body.state;
  return { keyspace, database, gateways, keys, call, register, state };
}

describe('tunnels', { timeout: 60_000 }, () => {
  it('opens on the edge’s answer, returns the open one to a second request, closes and gives the ports back', async () => {
    const s = await setup();
    await s.register('T-1');
    const edges = edgesAnswering(t.bus(s.keyspace), () => undefined);
    try {
      const first = await s.call(0, 'POST', '/v1/edges/T-1/tunnels', s.keys.operator, {
        services: ['ssh', 'camera'],
      });
      assert.equal(first.status, 202, JSON.stringify(first.body));
      const tunnel = first.body;
      assert.equal(tunnel.state, 'requested');
      const [ssh, camera] = tunnel.services;
      assert.ok(ssh!.remotePort! >= 30_000 && ssh!.remotePort! <= 30_099);
      assert.notEqual(ssh!.remotePort, camera!.remotePort);
      assert.equal(ssh!.connect, `ssh -p ${ssh!.remotePort} root@tunnels.example.com`);
      assert.equal(camera!.connect, `http://tunnels.example.com:${camera!.remotePort}/`);

      await waitFor(async () => (await s.state('T-1', tunnel.id)) === 'open', {
        message: 'the tunnel to open',
      });
      // The sink follows the actor onto the row.
      await waitFor(
        async () =>
          (await s.database.db.select().from(tunnels).where(eq(tunnels.id, tunnel.id)))[0]?.state === 'open',
        { message: 'the row to say open' },
      );
      // Same services again, from the other gateway: the same tunnel.
      const again = await s.call(1, 'POST', '/v1/edges/T-1/tunnels', s.keys.operator, {
        services: ['camera'],
      });
      assert.deepEqual([again.status, again.body.id], [200, tunnel.id]);
      const overlap = await s.call(1, 'POST', '/v1/edges/T-1/tunnels', s.keys.operator, {
        services: ['ssh', 'console'],
      });
      assert.equal(overlap.status, 409);
      assert.match(overlap.body.error!.message, /already has some of these services/);
      assert.equal((await allocatedPorts(t.bus(s.keyspace))).size, 2, 'the refused request took no port');

      const closing = await s.call(1, 'DELETE', `/v1/edges/T-1/tunnels/${tunnel.id}`, s.keys.operator);
      assert.equal(closing.status, 202);
      await waitFor(async () => (await allocatedPorts(t.bus(s.keyspace))).size === 0, {
        message: 'the ports to return to the pool',
      });
      assert.equal(await s.state('T-1', tunnel.id), 'closed');
      const [row] = await s.database.db.select().from(tunnels).where(eq(tunnels.id, tunnel.id));
      assert.equal(row!.state, 'closed');
      assert.match(row!.reason!, /closed by key:op/);
      // The edge was told to close.
      const commands = (
        await t.redis.xrange(s.keyspace.outbox(s.keyspace.groupOf(s.keyspace.shardOf('edge/T-1'))), '-', '+')
      ).map(([, f]) => JSON.parse(f[1]!) as { type: string; command?: string });
      assert.ok(commands.some((e) => e.type === 'command' && e.command === 'tunnel.close'));
      // And it may be opened again.
      const reopened = await s.call(0, 'POST', '/v1/edges/T-1/tunnels', s.keys.operator, {
        services: ['ssh'],
      });
      assert.equal(reopened.status, 202);
      assert.notEqual(reopened.body.id, tunnel.id);
      const actions = (await s.database.db.select().from(auditLog)).map((r) => r.action);
      assert.deepEqual(
        actions.filter((a) => a.startsWith('tunnel.')),
        ['tunnel.open', 'tunnel.close', 'tunnel.open'],
      );
    } finally {
      await edges.stop();
    }
  });

  it('expires by the actor’s timer, fails when the edge refuses, and says why', async () => {
    const s = await setup();
    await s.register('T-2', 'T-3');
    const edges = edgesAnswering(t.bus(s.keyspace), (id) =>
      id === 'T-3' ? 'frpc: login to server failed' : undefined,
    );
    try {
      const short = await s.call(0, 'POST', '/v1/edges/T-2/tunnels', s.keys.operator, {
        services: ['console'],
        ttlSeconds: 1,
      });
      assert.equal(short.status, 202);
      await waitFor(async () => (await s.state('T-2', short.body.id)) === 'expired', {
        timeoutMs: 10_000,
        message: 'the tunnel to expire',
      });
      await waitFor(async () => (await allocatedPorts(t.bus(s.keyspace))).size === 0, {
        message: 'ports back',
      });
      const refused = await s.call(0, 'POST', '/v1/edges/T-3/tunnels', s.keys.operator, {
        services: ['ssh'],
      });
      await waitFor(async () => (await s.state('T-3', refused.body.id)) === 'failed', {
        message: 'the tunnel to fail',
      });
      const got = await s.call(1, 'GET', `/v1/edges/T-3/tunnels/${refused.body.id}`, s.keys.service);
      assert.equal(got.body.reason, 'frpc: login to server failed');
      const listed = await s.call(1, 'GET', '/v1/edges/T-3/tunnels', s.keys.service);
      assert.deepEqual(
        (listed.body as unknown as { tunnels: Tunnel[] }).tunnels.map((x) => x.state),
        ['failed'],
      );
    } finally {
      await edges.stop();
    }
  });

  it('refuses what it cannot do with reasons: unknown edge, bad services, too long, no scope', async () => {
    const s = await setup();
    await s.register('T-4');
    const cases: [string, unknown, string, number, RegExp][] = [
      ['/v1/edges/NOPE/tunnels', { services: ['ssh'] }, s.keys.operator, 404, /No edge NOPE/],
      ['/v1/edges/T-4/tunnels', { services: ['telnet'] }, s.keys.operator, 400, /services\.0/],
      ['/v1/edges/T-4/tunnels', { services: ['ssh', 'ssh'] }, s.keys.operator, 400, /must not repeat/],
      ['/v1/edges/T-4/tunnels', { services: [] }, s.keys.operator, 400, /services/],
      [
        '/v1/edges/T-4/tunnels',
        { services: ['ssh'], ttlSeconds: 99_999 },
        s.keys.operator,
        400,
        /at most 14400/,
      ],
      ['/v1/edges/T-4/tunnels', { services: ['ssh'] }, s.keys.service, 403, /needs scope operator/],
    ];
    for (const [path, body, key, status, message] of cases) {
      const res = await s.call(0, 'POST', path, key, body);
      assert.equal(res.status, status, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.error!.message, message);
    }
    assert.equal((await s.call(0, 'GET', '/v1/edges/T-4/tunnels/t-nope', s.keys.service)).status, 404);
  });

  it('never hands a port out twice under contention between two gateways, and says 503 when the pool is empty', async () => {
    const s = await setup({ ports: { low: 31_000, high: 31_009 } }); // 10 ports
    const ids = Array.from({ length: 30 }, (_, i) => `C-${i}`);
    await s.register(...ids);
    // 30 edges × 1 service from both gateways at once, plus the same edge asked twice at once.
    const results = await Promise.all([
      ...ids.map((id, i) =>
        s.call(i % 2, 'POST', `/v1/edges/${id}/tunnels`, s.keys.operator, { services: ['ssh'] }),
      ),
    ]);
    const granted = results.filter((r) => r.status === 202);
    const refused = results.filter((r) => r.status === 503);
    assert.equal(granted.length, 10);
    assert.equal(refused.length, 20);
    assert.ok(refused.every((r) => /No 1 free port\(s\) left in 31000\.\.31009/.test(r.body.error!.message)));
    const ports = granted.map((r) => r.body.services[0]!.remotePort);
    assert.equal(new Set(ports).size, 10, 'no port twice');
    // One edge and service asked on both gateways at once: one tunnel.
    const s2 = await setup({ ports: { low: 31_100, high: 31_199 } });
    await s2.register('D-1');
    const both = await Promise.all(
      [0, 1, 0, 1].map((g) =>
        s2.call(g, 'POST', '/v1/edges/D-1/tunnels', s2.keys.operator, { services: ['camera'] }),
      ),
    );
    assert.deepEqual(both.map((r) => r.status).sort(), [200, 200, 200, 202]);
    assert.equal(new Set(both.map((r) => r.body.id)).size, 1, 'everyone got the same tunnel');
  });
});
