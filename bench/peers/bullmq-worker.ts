/**
 * The peers bench's BullMQ worker process, set up as BullMQ's own guides advise ("Going to
 * production", "Concurrency", "Stalled jobs"): a job per message, `concurrency` jobs at once (the
 * handler waits on Redis), the Worker's connection with `maxRetriesPerRequest: null`, a separate
 * connection for the state. Each job reads its edge's state, applies the wrapped edge handler
 * (measure.ts) and writes state, timer and events back atomically if nobody wrote the edge in
 * between (apply-state.lua); otherwise it reads again and retries.
 *
 *   node --import tsx bench/peers/bullmq-worker.ts --redis URL [--concurrency 50] [--lock-ms 10000]
 *        [--stalled-ms 5000]
 *
 * Prints {"ready":true} once it takes jobs, then a WorkerLine each second.
 */
import { parseArgs } from 'node:util';
import { type Job, Worker } from 'bullmq';
import { connectRedis } from '../../bus/mod.ts';
import { applyPeer, type PeerPayload } from './measure.ts';
import { WorkerReport } from './peer-process.ts';
import { peerContext, peerKeys, StateStore } from './state-store.ts';

const { values } = parseArgs({
  options: {
    redis: { type: 'string' },
    concurrency: { type: 'string', default: '50' },
    'lock-ms': { type: 'string', default: '10000' },
    'stalled-ms': { type: 'string', default: '5000' },
  },
});
if (!values.redis) throw new Error('--redis is required');
const connection = connectRedis(values.redis, { name: 'peers-bullmq-worker' });
const redis = connectRedis(values.redis, { name: 'peers-bullmq-state' });
const store = new StateStore(redis, 'bullmq');
const report = new WorkerReport();

async function processJob(job: Job<{ edgeId: string; payload: PeerPayload }>): Promise<void> {
  const { edgeId, payload } = job.data;
  for (;;) {
    const [read] = await store.read([edgeId]);
    const now = Date.now();
    const { ctx, effects } = peerContext(edgeId, { now, enqueuedAt: job.timestamp, messageId: job.id ?? '' });
    const next = applyPeer(read!.state, payload, ctx);
    if (await store.compareAndSet(edgeId, read!.v, next, effects)) break;
    report.retries++; // another job of this edge wrote it meanwhile
  }
  report.applied(Date.now() - payload.ts);
}

const worker = new Worker(peerKeys.queue, processJob, {
  connection,
  prefix: peerKeys.bullPrefix,
  concurrency: Number(values.concurrency),
  lockDuration: Number(values['lock-ms']),
  stalledInterval: Number(values['stalled-ms']),
  maxStalledCount: 1,
  removeOnComplete: { count: 0 },
  removeOnFail: { count: 5000 },
});
worker.on('error', () => {}); // connection blips: BullMQ retries
let failures = 0;
worker.on('failed', (_job, error) => {
  if (failures++ === 0)
    console.error(`peers bullmq worker: a job failed (more may follow): ${error.message}`);
});
await worker.waitUntilReady();
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);

process.once('SIGTERM', () => {
  void worker.close().then(() => {
    report.stop();
    connection.disconnect();
    redis.disconnect();
    process.exit(0);
  });
});
