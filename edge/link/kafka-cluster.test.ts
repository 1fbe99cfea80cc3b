/**
 * The Kafka link on a 3-broker KRaft cluster (replication factor 3, min.insync.replicas 2):
 * edges produce with acks=all while the broker leading the most partitions is killed -9;
 * ingest goes on and every message a broker acknowledged reaches its actor.
 */
// Redis Cluster pass: once (what this tests is a 3-broker Kafka cluster; its Redis use is incidental).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { type KafkaCluster, startKafkaCluster, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { encodeCompact, KAFKA_TOPICS } from '../protocol/mod.ts';
import { KafkaLink } from './kafka-link.ts';

const t = useRedis();
let kafka: KafkaCluster;

before(async () => {
  kafka = await startKafkaCluster({ brokers: 3 });
});
after(async () => {
  await kafka?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Kafka link on a 3-broker cluster', { timeout: 180_000 }, () => {
  it('keeps ingesting through a broker kill -9 and loses nothing a broker acknowledged', async (ctx) => {
    const keyspace = t.keyspace();
    await using _node = await t.hub(keyspace);
    await using link = await new KafkaLink({
      brokers: kafka.brokers,
      bus: t.bus(keyspace, t.connect()),
      groupId: `g-${keyspace.prefix}`,
      ensureTopics: 6,
    }).start();

    const client = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING, clientId: 'edges' });
    const admin = client.admin();
    await admin.connect();
    // Every broker learns of the new topic a moment after its creation.
    let topic: Awaited<ReturnType<typeof admin.fetchTopicMetadata>>['topics'][number] | undefined;
    await waitFor(
      async () => {
        topic = (await admin.fetchTopicMetadata({ topics: [KAFKA_TOPICS.compact] }).catch(() => undefined))
          ?.topics[0];
        return topic !== undefined && topic.partitions.length === 6;
      },
      { timeoutMs: 30_000, message: 'the compact topic’s metadata' },
    );
    assert.ok(
      topic!.partitions.every((p) => p.replicas.length === 3),
      'every partition has three replicas',
    );
    // The victim: the broker leading the most partitions of the compact topic.
    const leads = new Map<number, number>();
    for (const p of topic!.partitions) leads.set(p.leader, (leads.get(p.leader) ?? 0) + 1);
    const [victimId, victimLeads] = [...leads].sort((a, b) => b[1] - a[1])[0]!;
    await admin.disconnect();

    const edges = 12;
    const perEdge = 60;
    const acknowledged = new Map<string, number>();
    let retries = 0;
    const producers: Producer[] = [];
    const sendAll = async (e: number) => {
      const id = `KC-${e}`;
      const producer = client.producer({ allowAutoTopicCreation: false, retry: { retries: 2 } });
      producers.push(producer);
      await producer.connect();
      for (let seq = 1; seq <= perEdge; seq++) {
        const value = Buffer.from(
          encodeCompact({
            kind: 'status',
            seq,
            ts: Date.now(),
            snapshot: false,
            status: { floor: seq % 30 },
          }),
        );
        // An edge's store-and-forward: send again until a broker acknowledges (acks=all).
        for (;;) {
          try {
            await producer.send({ topic: KAFKA_TOPICS.compact, acks: -1, messages: [{ key: id, value }] });
            acknowledged.set(id, seq);
            break;
          } catch {
            retries++;
            await sleep(200); // an edge's resend delay: time passing is the point
          }
        }
        await sleep(50); // time passing is the point: an edge's pace, so the broker dies mid-stream
      }
    };
    const sending = Promise.all(Array.from({ length: edges }, (_, e) => sendAll(e)));
    await waitFor(() => [...acknowledged.values()].reduce((a, b) => a + b, 0) >= (edges * perEdge) / 3, {
      timeoutMs: 60_000,
      message: 'a third of the messages acknowledged',
    });
    const receivedBeforeKill = link.stats.received;
    await kafka.nodes[victimId - 1]!.kill();
    await sending;
    for (const producer of producers) await producer.disconnect();

    await waitFor(
      async () => {
        for (let e = 0; e < edges; e++) {
          const s = await t.edgeState(keyspace, `KC-${e}`);
          if ((s?.seq.last ?? 0) < perEdge) return false;
        }
        return true;
      },
      { timeoutMs: 90_000, message: 'every edge’s last message applied' },
    );
    for (let e = 0; e < edges; e++) {
      const s = (await t.edgeState(keyspace, `KC-${e}`))!;
      assert.equal(acknowledged.get(`KC-${e}`), perEdge);
      assert.equal(s.seq.gaps, 0, `KC-${e}: no acknowledged message missing`);
      assert.ok(s.seq.received >= perEdge, `KC-${e}: received ${s.seq.received} of ${perEdge}`);
    }
    assert.ok(victimLeads > 0, 'the killed broker led partitions of the topic');
    assert.ok(link.stats.received > receivedBeforeKill, 'the link went on consuming after the kill');
    ctx.diagnostic(
      `broker ${victimId} (leader of ${victimLeads} partitions) killed; sends retried: ${retries}`,
    );
  });
});
