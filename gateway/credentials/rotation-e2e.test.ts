/**
 * A secret rotation end to end, with nothing lost: a real gateway over HTTP (PGlite, Redis) that
 * manages a real mosquitto's identities, a hub node and an MQTT link, and the on-device agent
 * raising alarms (QoS 1) before, during and after the rotation. The agent picks the new secret up
 * through its configuration's long-poll, confirms it, moves its broker connection; the old secret
 * then works nowhere, and every alarm reached the edge actor.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import mqtt from 'mqtt';
import { EdgeAgent } from '../../edge/agent/mod.ts';
import { LINK_USER } from '../../edge/broker/mod.ts';
import { birthOf, MqttLink } from '../../edge/mod.ts';
import { startMosquitto, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { createApiKey } from '../auth.ts';
import { openDatabase } from '../db/database.ts';
import { createGateway, serveGateway } from '../gateway.ts';
import { basic } from '../testdata/harness.ts';

const t = useRedis();

describe('credentials rotation with a live agent', { timeout: 90_000 }, () => {
  it('moves the agent to its new secret through the configuration without losing a message', async () => {
    const keyspace = t.keyspace();
    await using broker = await startMosquitto({ users: { [LINK_USER]: 'hub-secret' } });
    await using database = await openDatabase();
    await using gateway = await createGateway({
      database,
      bus: t.bus(keyspace, t.connect()),
      broker: { url: broker.url, ...broker.admin, reconcileMs: 0 },
      identity: { dir: mkdtempSync(join(tmpdir(), 'rotation-ca-')), create: true },
    });
    await using served = await serveGateway(gateway);
    const { key } = await createApiKey(database.db, { name: 'ops', scope: 'admin' });
    const api = async (method: string, path: string, o: { body?: unknown; auth?: string } = {}) => {
      const res = await fetch(`${served.url}${path}`, {
        method,
        headers: { authorization: o.auth ?? `Bearer ${key}`, 'content-type': 'application/json' },
        body: o.body === undefined ? undefined : JSON.stringify(o.body),
      });
      return { status: res.status, body: (await res.text()) || '{}' };
    };
    const registered = await api('POST', '/v1/edges', { body: { id: 'R-1' } });
    const old = JSON.parse(registered.body).secret as string;
    await api('PUT', '/v1/brokers/a', { body: { transport: 'mqtt', address: broker.url, weight: 1 } });
    await using _node = await t.hub(keyspace);
    const link = await new MqttLink({
      url: broker.url,
      username: LINK_USER,
      password: 'hub-secret',
      bus: t.bus(keyspace, t.connect()),
    }).start();
    await using _link = { [Symbol.asyncDispose]: () => link.stop() };

    const dataDir = mkdtempSync(join(tmpdir(), 'rotation-agent-'));
    await using agent = await new EdgeAgent({
      edgeId: 'R-1',
      password: old,
      birth: birthOf('R-1'),
      dataDir,
      configUrl: served.url,
      longPollSeconds: 5,
    }).start();
    assert.equal(agent.stats.brokerUrl, broker.url);

    // Alarms all along: 60 starts and ends, every 20 ms, while the rotation happens.
    let sent = 0;
    const raising = (async () => {
      for (let i = 0; i < 60; i++) {
        agent.alarm({ alarm: `door-${i}`, phase: 'start', floor: 1 });
        agent.alarm({ alarm: `door-${i}`, phase: 'end', floor: 1 });
        sent++;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await waitFor(async () => ((await t.edgeState(keyspace, 'R-1'))?.alarmsRaised ?? 0) >= 5, {
      message: 'alarms flowing before the rotation',
    });
    const rotated = await api('POST', '/v1/edges/R-1/credentials/rotate', { body: { graceSeconds: 3600 } });
    assert.equal(rotated.status, 202, rotated.body);
    await raising;

    await waitFor(
      async () => (await api('GET', '/v1/config/edge/R-1', { auth: basic('R-1', old) })).status === 401,
      {
        timeoutMs: 20_000,
        message: 'the agent to confirm its new secret (the old one then stops at the gateway)',
      },
    );
    await waitFor(async () => (await t.edgeState(keyspace, 'R-1'))?.alarmsRaised === sent, {
      timeoutMs: 20_000,
      message: `all ${sent} alarms at the edge actor`,
    });
    assert.equal(agent.stats.queued, 0, 'nothing left behind in the queue');
    await assert.rejects(
      mqtt.connectAsync(broker.url, {
        username: 'R-1',
        password: old,
        reconnectPeriod: 0,
        protocolVersion: 5,
      }),
      /Not authorized|Bad user name or password/i,
    );
    // The agent, restarted, uses the secret it saved.
    await agent.stop();
    await using again = await new EdgeAgent({
      edgeId: 'R-1',
      password: old,
      birth: birthOf('R-1'),
      dataDir,
      configUrl: served.url,
    }).start();
    again.alarm({ alarm: 'after-restart', phase: 'start', floor: 2 });
    await waitFor(async () => (await t.edgeState(keyspace, 'R-1'))?.alarmsRaised === sent + 1, {
      message: 'an alarm after a restart, on the saved secret',
    });
  });
});
