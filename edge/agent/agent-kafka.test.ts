/**
 * The agent moves from MQTT to Kafka by configuration (a real KRaft Kafka, the Kafka link and
 * downlink relay next to the MQTT links) and takes commands from the Kafka downlink.
 */
// Redis Cluster pass: once (what this tests is the agent over Kafka; its Redis use is incidental).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActorClient } from '../../actors/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { edgeActor } from '../actor/mod.ts';
import { DownlinkRelay, KafkaLink, kafkaDownlink } from '../link/mod.ts';
import { agentE5, configServer, reading, useAgentHub } from './testdata/agent-hub.ts';

const env = useAgentHub({ kafka: true });
const { t } = env;

describe('edge agent over Kafka', { timeout: 90_000 }, () => {
  it('moves from MQTT to Kafka by configuration without loss, and takes commands from the Kafka downlink', async () => {
    const keyspace = t.keyspace();
    await using h = await env.hub(keyspace);
    await using kafkaLink = await new KafkaLink({
      brokers: [env.kafka.broker],
      bus: t.bus(keyspace, t.connect()),
      groupId: `g-${keyspace.prefix}`,
    }).start();
    await using _relay = await new DownlinkRelay({
      bus: t.bus(keyspace, t.connect()),
      sender: await kafkaDownlink({ brokers: [env.kafka.broker] }),
    }).start();
    const config = await configServer({ version: 1, broker: { transport: 'mqtt', url: env.brokerA.url } });
    await using agent = await agentE5({
      configUrl: config.url,
      pollMs: 100,
      executors: { echo: async (args) => args },
    }).start();
    agent.status(reading(2));
    agent.alarm({ alarm: 'trapped', phase: 'start', floor: 2 });
    await waitFor(async () => (await env.stateOf(keyspace))?.openAlarms.trapped !== undefined, {
      message: 'the alarm via MQTT',
    });
    config.set({ version: 2, broker: { transport: 'kafka', brokers: [env.kafka.broker] } });
    await waitFor(() => agent.stats.brokerUrl === `kafka://${env.kafka.broker}`, {
      timeoutMs: 30_000,
      message: 'the agent to move to Kafka',
    });
    for (let floor = 3; floor <= 7; floor++) agent.status(reading(floor));
    agent.alarm({ alarm: 'trapped', phase: 'end', floor: 7 });
    await waitFor(
      async () => {
        const s = await env.stateOf(keyspace);
        return s?.openAlarms.trapped === undefined && s?.shadow.status?.floor === 7;
      },
      { timeoutMs: 30_000, message: 'the rest via Kafka' },
    );
    const s = (await env.stateOf(keyspace))!;
    assert.equal(s.seq.gaps, 0, 'nothing lost across the move');
    assert.equal(s.transport, 'kafka');
    assert.ok(kafkaLink.stats.enqueued >= 6, 'Kafka carried what came after the move');
    assert.equal(h.links[0]!.stats.enqueued, 3, 'birth, status and alarm came over MQTT');

    await createActorClient(t.bus(keyspace), edgeActor).send('E-5', 'command', {
      id: 'k-1',
      type: 'echo',
      args: { over: 'kafka' },
      deadline: Date.now() + 30_000,
    });
    await waitFor(async () => (await env.stateOf(keyspace))?.commands?.['k-1']?.status === 'succeeded', {
      timeoutMs: 30_000,
      message: 'the command to go out on dh-downlink and its result to come back',
    });
    assert.deepEqual((await env.stateOf(keyspace))?.commands?.['k-1']?.result, { over: 'kafka' });
    await config.close();
  });
});
