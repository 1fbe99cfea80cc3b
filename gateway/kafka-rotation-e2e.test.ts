/**
 * A secret rotation end to end over an authenticated Kafka, with nothing lost: a real gateway over
 * HTTP (PGlite, Redis) that keeps edges' SCRAM users, one SASL_SSL KRaft broker, and the on-device
 * agent sent there by a `kafkas://` pool broker, raising alarms before, during and after the
 * rotation. The agent takes its new secret from its configuration, confirms it (the gateway then
 * moves its Kafka password) and reconnects with it; afterwards the old secret works neither at the
 * gateway nor on Kafka, and every alarm is on `dh-uplink`.
 */
// Redis Cluster pass: once (what this tests is a rotation through Kafka's SCRAM users; its Redis use is incidental).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EdgeAgent } from '../edge/agent/mod.ts';
import { produce, useAuthenticatedKafka } from '../edge/link/testdata/kafka-auth-broker.ts';
import { birthOf } from '../edge/mod.ts';
import { decodeCompact, isLogMessage, KAFKA_TOPICS } from '../edge/protocol/mod.ts';
import { waitFor } from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { createApiKey } from './auth.ts';
import { openDatabase } from './db/database.ts';
import { createGateway, serveGateway } from './gateway.ts';
import { basic } from './testdata/harness.ts';

const t = useRedis();
const k = useAuthenticatedKafka();

describe('credentials rotation with a live agent on an authenticated Kafka', { timeout: 120_000 }, () => {
  it('moves the agent’s Kafka login to its new secret through the configuration without losing an alarm', async () => {
    await using database = await openDatabase();
    await using gateway = await createGateway({
      database,
      bus: t.bus(t.keyspace(), t.connect()),
      kafka: { brokers: [k.kafka.broker], ...k.auth.hub, caFile: k.auth.caFile },
      identity: { dir: mkdtempSync(join(tmpdir(), 'kafka-rotation-ca-')), create: true },
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
    const registered = await api('POST', '/v1/edges', { body: { id: 'RK-1' } });
    assert.equal(registered.status, 201, registered.body);
    const old = JSON.parse(registered.body).secret as string;
    const pool = { transport: 'kafka', address: `kafkas://${k.kafka.broker}`, weight: 1 };
    assert.equal((await api('PUT', '/v1/brokers/k', { body: pool })).status, 200);

    // The hub's side: every alarm of RK-1 that reaches dh-uplink.
    const seen = new Set<string>();
    const consumer = k.client(k.auth.hub).consumer({ groupId: `hub-rotation-${process.pid}` });
    await consumer.connect();
    await consumer.subscribe({ topic: KAFKA_TOPICS.compact, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.key?.toString() !== 'RK-1' || message.value === null) return;
        // The agent's own log lines share dh-uplink (the log kind, decision 038): not alarms, and
        // not for decodeCompact, whose throw would stall this consumer on that message for good.
        if (isLogMessage(message.value)) return;
        for (const m of decodeCompact(message.value)) {
          if (m.method === 'alarm') seen.add(`${m.payload.alarm}/${m.payload.phase}`);
        }
      },
    });
    await using _consumer = { [Symbol.asyncDispose]: () => consumer.disconnect() };

    await using agent = await new EdgeAgent({
      edgeId: 'RK-1',
      password: old,
      birth: birthOf('RK-1'),
      dataDir: mkdtempSync(join(tmpdir(), 'kafka-rotation-agent-')),
      configUrl: served.url,
      brokerTls: { ca: k.auth.ca },
      longPollSeconds: 5,
    }).start();
    assert.equal(agent.stats.brokerUrl, `kafkas://${k.kafka.broker}`, 'the pool sent the agent to SASL_SSL');

    // Alarms all along: 60 starts and ends, every 20 ms, while the rotation happens.
    let sent = 0;
    const raising = (async () => {
      for (let i = 0; i < 60; i++) {
        agent.alarm({ alarm: `door-${i}`, phase: 'start', floor: 1 });
        agent.alarm({ alarm: `door-${i}`, phase: 'end', floor: 1 });
        sent += 2;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await waitFor(() => seen.size >= 5, { timeoutMs: 30_000, message: 'alarms flowing before the rotation' });
    const rotated = await api('POST', '/v1/edges/RK-1/credentials/rotate', { body: { graceSeconds: 3600 } });
    assert.equal(rotated.status, 202, rotated.body);
    await raising;

    await waitFor(
      async () => (await api('GET', '/v1/config/edge/RK-1', { auth: basic('RK-1', old) })).status === 401,
      {
        timeoutMs: 30_000,
        message: 'the agent to confirm its new secret (the old one then stops at the gateway)',
      },
    );
    await waitFor(() => seen.size === sent, {
      timeoutMs: 30_000,
      message: `all ${sent} alarms on dh-uplink`,
    });
    // Kafka hands a message to consumers before the producer's send is answered, so the agent may
    // still hold the last alarm for a moment after the hub saw it: its queue empties, not at once.
    await waitFor(() => agent.stats.queued === 0, {
      timeoutMs: 30_000,
      message: 'nothing left behind in the agent’s queue',
    });
    assert.notEqual(
      await produce(k.client({ username: 'RK-1', password: old }), KAFKA_TOPICS.compact, 'RK-1'),
      'ok',
    );
    // An alarm after the rotation goes out on the new login.
    agent.alarm({ alarm: 'after-rotation', phase: 'start', floor: 2 });
    await waitFor(() => seen.has('after-rotation/start'), {
      timeoutMs: 30_000,
      message: 'an alarm after the rotation, on the new Kafka login',
    });
  });
});
