/**
 * The configuration contract end to end: a real gateway over HTTP (PGlite, Redis), an edge
 * registered through it, the on-device agent polling it with its own credentials, real
 * mosquitto brokers and hub links. The pool names the edge's broker; a per-module override moves
 * it, and the long-poll carries the change to the agent at once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EdgeAgent } from '../edge/agent/mod.ts';
import { LINK_USER } from '../edge/broker/mod.ts';
import { birthOf, MqttLink } from '../edge/mod.ts';
import { startMosquitto, waitFor } from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { createApiKey } from './auth.ts';
import { openDatabase } from './db/database.ts';
import { createGateway, serveGateway } from './gateway.ts';

const t = useRedis();

describe('agent ↔ gateway configuration', { timeout: 60_000 }, () => {
  it('connects the agent to the broker the pool names and moves it when an operator says so', async () => {
    const keyspace = t.keyspace();
    await using database = await openDatabase();
    await using gateway = await createGateway({ database, bus: t.bus(keyspace, t.connect()) });
    await using served = await serveGateway(gateway);
    const { key } = await createApiKey(database.db, { name: 'ops', scope: 'operator' });
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${served.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
      return res.json();
    };
    const { secret } = (await api('POST', '/v1/edges', { id: 'G-1' })) as { secret: string };
    const users = { [LINK_USER]: 'hub-secret', 'G-1': secret };
    await using brokerA = await startMosquitto({ users });
    await using brokerB = await startMosquitto({ users });
    await using _node = await t.hub(keyspace);
    const links = await Promise.all(
      [brokerA, brokerB].map((b) =>
        new MqttLink({
          url: b.url,
          username: LINK_USER,
          password: 'hub-secret',
          bus: t.bus(keyspace, t.connect()),
        }).start(),
      ),
    );
    await using _links = {
      [Symbol.asyncDispose]: async () => void (await Promise.all(links.map((l) => l.stop()))),
    };
    await api('PUT', '/v1/brokers/a', { transport: 'mqtt', address: brokerA.url, weight: 1 });

    await using agent = await new EdgeAgent({
      edgeId: 'G-1',
      password: secret,
      birth: birthOf('G-1'),
      dataDir: mkdtempSync(join(tmpdir(), 'agent-')),
      configUrl: served.url,
    }).start();
    assert.equal(agent.stats.brokerUrl, brokerA.url, 'the pool’s broker, from the first poll');
    await waitFor(async () => (await t.edgeState(keyspace, 'G-1'))?.shadow.birth !== undefined, {
      message: 'the birth via A',
    });

    await api('PUT', '/v1/config/edge/module:G-1', { broker: { transport: 'mqtt', url: brokerB.url } });
    await waitFor(() => agent.stats.brokerUrl === brokerB.url, {
      timeoutMs: 10_000,
      message: 'the long-poll to carry the override to the agent',
    });
    agent.alarm({ alarm: 'trapped', phase: 'start', floor: 3 });
    await waitFor(async () => (await t.edgeState(keyspace, 'G-1'))?.openAlarms.trapped !== undefined, {
      message: 'the alarm via B',
    });
    assert.equal(links[1]!.stats.enqueued, 1, 'B carried the alarm');
    assert.equal((await t.edgeState(keyspace, 'G-1'))?.seq.gaps, 0);
  });
});
