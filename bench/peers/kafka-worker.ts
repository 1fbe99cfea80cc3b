/**
 * The peers bench's Kafka consumer process, as kafkajs's "Consuming messages" guide and the hub's
 * own Kafka link (edge/link/kafka-link.ts) set one up: a consumer group over a topic keyed by edge,
 * `eachBatch` without auto-resolve, 4 partitions consumed concurrently, a 10 s session timeout and
 * 1 s heartbeats, offsets auto-committed every second once resolved. Per partition batch: the
 * batch's edges' states read in one pipeline, the wrapped edge handler (measure.ts) applied in
 * offset order, states, timers and events written in one MULTI, then the offset resolved.
 *
 *   node --import tsx bench/peers/kafka-worker.ts --redis URL --brokers H:P [--session-ms 10000]
 *
 * Prints {"ready":true} once it has joined the group, then a WorkerLine each second.
 */
import { parseArgs } from 'node:util';
import { type EachBatchPayload, Kafka, logLevel } from 'kafkajs';
import { connectRedis } from '../../bus/mod.ts';
import { applyPeer, type PeerPayload } from './measure.ts';
import { WorkerReport } from './peer-process.ts';
import { type Effects, peerContext, peerKeys, StateStore, type Versioned } from './state-store.ts';

const { values } = parseArgs({
  options: {
    redis: { type: 'string' },
    brokers: { type: 'string' },
    'session-ms': { type: 'string', default: '10000' },
  },
});
if (!values.redis || !values.brokers) throw new Error('--redis and --brokers are required');
const redis = connectRedis(values.redis, { name: 'peers-kafka-state' });
const store = new StateStore(redis, 'kafka-consumer');
const report = new WorkerReport();

async function eachBatch({ batch, resolveOffset, heartbeat }: EachBatchPayload): Promise<void> {
  if (batch.messages.length === 0) return;
  const messages = batch.messages.map((m) => ({
    edgeId: m.key!.toString(),
    offset: m.offset,
    at: Number(m.timestamp),
    payload: JSON.parse(m.value!.toString()) as PeerPayload,
  }));
  const edgeIds = [...new Set(messages.map((m) => m.edgeId))];
  const read = await store.read(edgeIds);
  const states = new Map<string, Versioned & { effects: Effects }>();
  edgeIds.forEach(
    (id, i) => void states.set(id, { ...read[i]!, effects: { timerDue: undefined, events: [] } }),
  );
  const now = Date.now();
  for (const m of messages) {
    const current = states.get(m.edgeId)!;
    const { ctx, effects } = peerContext(m.edgeId, { now, enqueuedAt: m.at, messageId: m.offset });
    const state = applyPeer(current.state, m.payload, ctx);
    current.effects.events.push(...effects.events);
    states.set(m.edgeId, {
      v: current.v,
      state,
      effects: { timerDue: effects.timerDue ?? current.effects.timerDue, events: current.effects.events },
    });
  }
  await store.writeAll([...states].map(([edgeId, s]) => ({ edgeId, ...s })));
  const done = Date.now();
  for (const m of messages) report.applied(done - m.payload.ts);
  resolveOffset(messages[messages.length - 1]!.offset);
  await heartbeat();
}

const kafka = new Kafka({
  clientId: 'peers-consumer',
  brokers: [values.brokers],
  logLevel: logLevel.NOTHING,
});
const consumer = kafka.consumer({
  groupId: peerKeys.group,
  sessionTimeout: Number(values['session-ms']),
  heartbeatInterval: 1000,
});
// In the group with its partitions assigned: it fetches from there on. (Its first fetch is no
// sign of that sooner: over a topic still empty it returns only after maxWaitTimeInMs, 5 s.)
const joined = new Promise<void>((resolve) => {
  const off = consumer.on(consumer.events.GROUP_JOIN, () => {
    off();
    resolve();
  });
});
await consumer.connect();
await consumer.subscribe({ topics: [peerKeys.topic], fromBeginning: true });
await consumer.run({
  autoCommit: true,
  autoCommitInterval: 1000,
  eachBatchAutoResolve: false,
  partitionsConsumedConcurrently: 4,
  eachBatch,
});
await joined;
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);

process.once('SIGTERM', () => {
  void consumer.disconnect().then(() => {
    report.stop();
    redis.disconnect();
    process.exit(0);
  });
});
