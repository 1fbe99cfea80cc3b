/**
 * patches/kafkajs+2.2.4.patch against a real Kafka (KRaft) broker: a connection with nothing
 * pending sets no timer. Unpatched, every answered request left kafkajs's request queue checking
 * for pending requests every millisecond for the life of the connection (its delay was
 * `-1 - Date.now()`, which Node runs as 1 ms and, on Node 24, warns about: TimeoutNegativeWarning
 * in every process that speaks Kafka): ~1.5 % of a core for each idle broker connection
 * (tulios/kafkajs#1704, #1751). Requests that must wait (throttled, or past the in-flight limit)
 * are still checked for as before.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { type KafkaServer, startKafka } from '../../infra/mod.ts';

let kafka: KafkaServer;
before(async () => {
  kafka = await startKafka();
});
after(async () => {
  await kafka?.stop();
});

/** Timers set from kafkajs's request queue while `run` runs. */
async function requestQueueTimers(run: () => Promise<void>): Promise<number> {
  const original = globalThis.setTimeout;
  let timers = 0;
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    if (new Error().stack?.includes('requestQueue')) timers++;
    return original(...args);
  }) as typeof setTimeout;
  try {
    await run();
  } finally {
    globalThis.setTimeout = original;
  }
  return timers;
}

describe('kafkajs, patched', { timeout: 90_000 }, () => {
  it('sets no timer for a connection with nothing pending, and still delivers', async () => {
    const client = new Kafka({ brokers: [kafka.broker], clientId: 'patch-test', logLevel: logLevel.NOTHING });
    const admin = client.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'patch-test', numPartitions: 1 }], waitForLeaders: true });
      const producer = client.producer();
      await producer.connect();
      try {
        const idle = await requestQueueTimers(async () => {
          // Answered requests, then nothing pending for a while: unpatched, ~300 checks.
          await producer.send({ topic: 'patch-test', messages: [{ key: 'k', value: 'one' }] });
          await sleep(300);
        });
        assert.equal(idle, 0, 'request-queue timers while nothing was pending');
        await producer.send({ topic: 'patch-test', messages: [{ key: 'k', value: 'two' }] });
      } finally {
        await producer.disconnect();
      }
      const [offsets] = await admin.fetchTopicOffsets('patch-test');
      assert.equal(offsets?.high, '2', 'both messages written');
    } finally {
      await admin.disconnect();
    }
  });
});
