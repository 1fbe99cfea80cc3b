/**
 * The peers bench's load, run as its own process: N edges sending the legacy workload
 * (bench/workload.ts, paced in 10 ms ticks as load-generator.ts does) straight into one system's
 * queue — DeviceHub's mailboxes, a BullMQ queue (a job per message) or a Kafka topic keyed by
 * edge — each message carrying its edge's sequence number. Each tick's send is awaited: a message
 * counts as acknowledged once the system said it has it.
 *
 *   node --import tsx bench/peers/producer.ts --system S --redis URL [--brokers H:P] --edges N --seconds T
 *
 * Prints {"t","sent","acked"} each second and, when done or on SIGTERM,
 * {"done":true,"sent","acked","lastSeq":[per edge],"failed":{edge index:[seqs]}}.
 */
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { Kafka, logLevel } from 'kafkajs';
import { connectRedis, createKeyspace, openBus } from '../../bus/mod.ts';
import { runPacedLoop } from '../paced-loop.ts';
import { legacyData, legacyScheduleAt } from '../workload.ts';
import type { PeerPayload } from './measure.ts';
import { type PeerSystem, peerEdgeId, peerKeys } from './state-store.ts';

const { values } = parseArgs({
  options: {
    system: { type: 'string' },
    redis: { type: 'string' },
    brokers: { type: 'string', default: '' },
    edges: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '30' },
  },
});
const system = values.system as PeerSystem;
if (!values.redis) throw new Error('--redis is required');
const edges = Number(values.edges);
const seconds = Number(values.seconds);
const boot = `b${process.pid}`;

interface Out {
  readonly edge: number;
  readonly payload: PeerPayload;
}

/** Sends one tick's messages into the system; resolves once it has them. */
async function openSender(): Promise<{ send(out: readonly Out[]): Promise<void>; close(): Promise<void> }> {
  const redis = connectRedis(values.redis!, { name: 'peers-producer' });
  if (system === 'devicehub') {
    const bus = openBus({ redis, keyspace: createKeyspace({ prefix: peerKeys.hubPrefix, shards: 1024 }) });
    return {
      send: async (out) => {
        const now = Date.now();
        const messages = out.map((o) => ({
          address: peerKeys.address(peerEdgeId(o.edge)),
          method: 'telemetry',
          payload: o.payload,
        }));
        await bus.enqueue(messages, now);
      },
      close: async () => redis.disconnect(),
    };
  }
  if (system === 'bullmq') {
    const queue = new Queue(peerKeys.queue, { connection: redis, prefix: peerKeys.bullPrefix });
    return {
      send: async (out) => {
        await queue.addBulk(
          out.map((o) => ({
            name: 'telemetry',
            data: { edgeId: peerEdgeId(o.edge), payload: o.payload },
            opts: { removeOnComplete: true, removeOnFail: { count: 5000 } },
          })),
        );
      },
      close: async () => {
        await queue.close();
        redis.disconnect();
      },
    };
  }
  const kafka = new Kafka({
    clientId: 'peers-producer',
    brokers: [values.brokers!],
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  return {
    send: async (out) => {
      await producer.send({
        topic: peerKeys.topic,
        acks: -1,
        messages: out.map((o) => ({ key: peerEdgeId(o.edge), value: JSON.stringify(o.payload) })),
      });
    },
    close: async () => {
      await producer.disconnect();
      redis.disconnect();
    },
  };
}

const sender = await openSender();
const lastSeq = new Uint32Array(edges);
const failed: Record<number, number[]> = {};
let sent = 0;
let acked = 0;
let stopping = false;
process.once('SIGTERM', () => {
  stopping = true;
});

let due: Out[] = [];
await runPacedLoop({
  edges,
  seconds,
  stopped: () => stopping,
  each: (i, second, now) => {
    for (const kind of legacyScheduleAt(second + i)) {
      lastSeq[i]!++;
      due.push({
        edge: i,
        payload: { kind, seq: lastSeq[i]!, boot, ts: now, data: legacyData(kind, i, second) },
      });
    }
  },
  flush: async () => {
    const batch = due;
    due = [];
    sent += batch.length;
    try {
      await sender.send(batch);
      acked += batch.length;
    } catch {
      for (const o of batch) {
        failed[o.edge] ??= [];
        failed[o.edge]!.push(o.payload.seq);
      }
    }
  },
  progress: (t) => process.stdout.write(`${JSON.stringify({ t, sent, acked })}\n`),
});
const final = `${JSON.stringify({ done: true, sent, acked, lastSeq: [...lastSeq], failed })}\n`;
// A pipe is written asynchronously: exit only once the last line is out.
await new Promise((resolve) => process.stdout.write(final, resolve));
await sender.close();
process.exit(0);
