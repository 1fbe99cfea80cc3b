/**
 * The agent end to end: its local input, real mosquitto brokers (per-edge credentials), the hub's
 * MQTT links and a hub node. The configuration service is the gateway's (issue 4); until it
 * exists, a small HTTP server here speaks the same contract (ETag / If-None-Match). Moving to
 * Kafka: agent-kafka.test.ts; what both share: testdata/agent-hub.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, waitFor } from '../../infra/mod.ts';
import { legacyStatus } from '../protocol/mod.ts';
import { DiskQueue } from './disk-queue.ts';
import { startLocalInput } from './local-input.ts';
import { agentE5, birth, configServer, reading, useAgentHub } from './testdata/agent-hub.ts';

const env = useAgentHub();
const { t } = env;

describe('edge agent', { timeout: 60_000 }, () => {
  it('takes today’s JSON on its local input and delivers it compact, then follows a broker switch without loss', async () => {
    const keyspace = t.keyspace();
    await using h = await env.hub(keyspace);
    const config = await configServer({ version: 1, broker: { transport: 'mqtt', url: env.brokerA.url } });
    await using agent = await agentE5({
      configUrl: config.url,
      pollMs: 100,
    }).start();
    await using input = await startLocalInput(agent);
    const post = (path: string, body: string) => fetch(`${input.url}${path}`, { method: 'POST', body });
    assert.equal(
      (await post('/v1/legacy', legacyStatus({ edgeId: 'E-5', ts: Date.now(), status: reading(3), birth })))
        .status,
      202,
    );
    assert.equal(
      (await post('/v1/alarm', JSON.stringify({ alarm: 'trapped', phase: 'start', floor: 3 }))).status,
      202,
    );
    const bad = await post('/v1/legacy', '{"msgType":"elevatorStatus","deviceId":"E-6","timestamp":1}');
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { code: string } }).error.code, /EDGE_MISMATCH/);
    await waitFor(
      async () =>
        (await env.stateOf(keyspace))?.openAlarms.trapped !== undefined &&
        (await env.stateOf(keyspace))?.shadow.status?.floor === 3,
      {
        message: 'status and alarm via broker A',
      },
    );
    assert.equal(h.links[0]!.stats.enqueued, 3, 'birth, status, alarm came through A');

    config.set({ version: 2, broker: { transport: 'mqtt', url: env.brokerB.url } });
    await waitFor(() => agent.stats.brokerUrl === env.brokerB.url, { message: 'the agent to switch to B' });
    for (let floor = 4; floor <= 8; floor++) agent.status(reading(floor));
    await post('/v1/alarm', JSON.stringify({ alarm: 'trapped', phase: 'end', floor: 8 }));
    await waitFor(
      async () =>
        (await env.stateOf(keyspace))?.openAlarms.trapped === undefined &&
        (await env.stateOf(keyspace))?.shadow.status?.floor === 8,
      {
        message: 'the rest via broker B',
      },
    );
    const s = (await env.stateOf(keyspace))!;
    assert.equal(s.seq.gaps, 0, 'nothing lost across the switch');
    assert.equal(s.seq.last, agent.stats.sent);
    assert.ok(h.links[1]!.stats.enqueued >= 6, 'B carried what came after the switch');
    assert.equal(agent.stats.configVersion, 2);
    await config.close();
  });

  it('keeps what it could not send on disk and delivers it after a restart', async () => {
    const keyspace = t.keyspace();
    await using _h = await env.hub(keyspace);
    const dataDir = mkdtempSync(join(tmpdir(), 'agent-'));
    const nowhere = `mqtt://127.0.0.1:${await freePort()}`;
    const offline = agentE5({
      dataDir,
      brokerUrl: nowhere,
    });
    void offline.start(); // never connects: the broker is not there
    for (let floor = 1; floor <= 10; floor++)
      offline.alarm({ alarm: 'doorOpenMoving', phase: floor % 2 ? 'start' : 'end', floor });
    await waitFor(() => offline.stats.queued === 11, { message: 'birth and 10 alarms queued' });
    await offline.stop();
    await using online = await agentE5({
      dataDir,
      brokerUrl: env.brokerA.url,
    }).start();
    await waitFor(() => online.stats.queued === 0, { message: 'the old queue to drain' });
    await waitFor(async () => (await env.stateOf(keyspace))?.seq.received === 12, {
      message: 'all 12 messages applied',
    });
    const s = (await env.stateOf(keyspace))!;
    assert.equal(s.alarmsRaised, 5);
    assert.deepEqual(s.openAlarms, {});
    assert.equal(s.seq.gaps, 0);
  });
});

describe('edge agent health', { timeout: 30_000 }, () => {
  it('reports its own health on the configured period, with which programs are feeding it', async () => {
    const keyspace = t.keyspace();
    await using _h = await env.hub(keyspace);
    const config = await configServer({
      version: 1,
      broker: { transport: 'mqtt', url: env.brokerA.url },
      healthSeconds: 1,
    });
    await using agent = await agentE5({
      configUrl: config.url,
    }).start();
    agent.status(reading(2));
    await waitFor(async () => (await t.edgeState(keyspace, 'E-5'))?.shadow.heartbeat !== undefined, {
      message: 'a health report',
    });
    const health = (await t.edgeState(keyspace, 'E-5'))?.shadow.heartbeat as Record<string, unknown>;
    assert.equal(health.litefcccoreAlive, true, 'litefcccore handed it a status');
    assert.equal(health.elenetAlive, false, 'elenet said nothing');
    assert.ok(Number(health.memoryFreeMb) > 0 && Number(health.diskFreeMb) > 0);
    await config.close();
  });
});

describe('disk queue', () => {
  it('survives reopening, and drops the oldest QoS 0 messages first when full', () => {
    const dir = mkdtempSync(join(tmpdir(), 'queue-'));
    const q = new DiskQueue(dir, { maxBytes: 1024 });
    q.push({ topic: 'a', qos: 1, payload: new Uint8Array(300) });
    q.push({ topic: 'b', qos: 0, payload: new Uint8Array(300) });
    q.push({ topic: 'c', qos: 1, payload: new Uint8Array(300) });
    q.push({ topic: 'd', qos: 0, payload: new Uint8Array(300) });
    assert.equal(q.dropped, 1);
    q.shift();
    const reopened = new DiskQueue(dir, { maxBytes: 1024 });
    assert.deepEqual([reopened.length, reopened.peek()?.topic], [2, 'c']);
  });
});
