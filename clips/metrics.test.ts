/**
 * The clip workers' /metrics: the queue's job counts from a real BullMQ queue, this worker's and
 * the Ezviz client's counters, the alarm end → stored histogram, served over HTTP and accepted by
 * promtool's linter.
 */
// Redis Cluster pass: once (what this tests is the metrics text; BullMQ's counts on a cluster are the clip workers' own tests').
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, test } from 'node:test';
import { Queue } from 'bullmq';
import { Histogram } from '../actors/mod.ts';
import { clipQueue } from '../bus/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { type ClipWorkerCounts, type EzvizCounts, renderClipMetrics, serveClipMetrics } from './metrics.ts';

const t = useRedis();
const queues: Queue[] = [];
after(async () => {
  for (const q of queues) await q.close();
});

function promtoolCheck(text: string): void {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (run.error)
    throw new Error('promtool was not found: run `sh infra/provision.sh` (apt-get install prometheus)');
  assert.equal(run.status, 0, `promtool check metrics:\n${run.stdout}${run.stderr}\n${text}`);
}

function workerStats(): ClipWorkerCounts {
  const alarmEndToStoredMs = new Histogram();
  for (const ms of [4_000, 45_000, 200_000]) alarmEndToStoredMs.record(ms);
  return {
    runs: 9,
    stored: 3,
    failed: { NOT_VIDEO: 1, 'odd"code\\': 2 },
    retries: { OFFLINE: 4 },
    polls: 12,
    resent: 1,
    downloadRetries: { expired: 2, cut: 1 },
    alarmEndToStoredMs,
  };
}

const ezviz: EzvizCounts = {
  calls: { save: 3, task: 12, download: 3, token: 1 },
  errors: { '20007': 4, '10029': 1 },
  budgetWaits: 5,
  budgetWaitMs: 2_500,
  cooldownWaits: 1,
  cooldownsStarted: 1,
  tokensFetched: 1,
  tokenRejections: 0,
};

test('the clip queue by state, the worker, Ezviz and the alarm end → stored histogram, over HTTP', async () => {
  const keyspace = t.keyspace();
  const queue = new Queue(clipQueue(), { connection: t.connect('queue'), prefix: keyspace.bullPrefix });
  queues.push(queue);
  await queue.add('clip', { n: 1 }, { jobId: 'c1' });
  await queue.add('clip', { n: 2 }, { jobId: 'c2' });
  await queue.add('clip', { n: 3 }, { jobId: 'c3', delay: 3_600_000 });
  const stats = workerStats();
  await using server = await serveClipMetrics({
    collect: async () =>
      renderClipMetrics({
        holder: 'clips-1',
        jobCounts: await queue.getJobCounts(),
        worker: stats,
        ezviz,
        budget: { perSecond: 8, burst: 4 },
        retention: { sweeps: 2, deleted: 5, errors: 0 },
      }),
  });
  const res = await fetch(server.url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  promtoolCheck(text);
  const lines = new Set(text.split('\n'));
  for (const line of [
    'devicehub_clips_jobs{state="waiting"} 2',
    'devicehub_clips_jobs{state="delayed"} 1',
    'devicehub_clips_jobs{state="active"} 0',
    'devicehub_clips_stored_total{worker="clips-1"} 3',
    'devicehub_clips_failed_total{worker="clips-1",code="NOT_VIDEO"} 1',
    'devicehub_clips_failed_total{worker="clips-1",code="odd\\"code\\\\"} 2',
    'devicehub_clips_download_retries_total{worker="clips-1",reason="cut"} 1',
    'devicehub_clips_ezviz_calls_total{worker="clips-1",endpoint="task"} 12',
    'devicehub_clips_ezviz_errors_total{worker="clips-1",code="20007"} 4',
    'devicehub_clips_ezviz_budget_wait_seconds_total{worker="clips-1"} 2.5',
    'devicehub_clips_ezviz_budget_per_second 8',
    'devicehub_clips_retention_deleted_total{worker="clips-1"} 5',
    // 4 s, 45 s and 200 s: each counted in the first bucket at or above it.
    'devicehub_clips_alarm_end_to_stored_seconds_bucket{worker="clips-1",le="5"} 1',
    'devicehub_clips_alarm_end_to_stored_seconds_bucket{worker="clips-1",le="30"} 1',
    'devicehub_clips_alarm_end_to_stored_seconds_bucket{worker="clips-1",le="60"} 2',
    'devicehub_clips_alarm_end_to_stored_seconds_bucket{worker="clips-1",le="180"} 2',
    'devicehub_clips_alarm_end_to_stored_seconds_bucket{worker="clips-1",le="300"} 3',
    'devicehub_clips_alarm_end_to_stored_seconds_bucket{worker="clips-1",le="+Inf"} 3',
    'devicehub_clips_alarm_end_to_stored_seconds_count{worker="clips-1"} 3',
  ]) {
    assert.ok(lines.has(line), `missing ${line} in\n${text}`);
  }
  const sum = Number(
    /^devicehub_clips_alarm_end_to_stored_seconds_sum\{worker="clips-1"\} (\S+)$/m.exec(text)?.[1],
  );
  assert.ok(sum >= 249 && sum <= 249 * 1.04, `sum ${sum} within the buckets' 3% of 249`);
  // This process's own CPU and memory, under the names the servers page charts.
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  const cpu = value('process_cpu_seconds_total');
  const used = process.cpuUsage(); // read after the scrape: at least as much
  assert.ok(cpu > 0 && cpu <= (used.user + used.system) / 1e6, `CPU ${cpu} s`);
  const rss = value('process_resident_memory_bytes');
  assert.ok(rss > 10 * 1024 ** 2 && rss < 8 * 1024 ** 3, `RSS ${rss} bytes`);
  assert.ok(Math.abs(value('process_start_time_seconds') - (Date.now() / 1000 - process.uptime())) < 5);
  // The counts follow the queue at each scrape.
  await queue.remove('c1');
  assert.match(await (await fetch(server.url)).text(), /^devicehub_clips_jobs\{state="waiting"\} 1$/m);
});

test('only GET /metrics; a failing collection is a 500, not a crash', async () => {
  let fail = false;
  await using server = await serveClipMetrics({
    collect: () => {
      if (fail) throw new Error('redis down');
      return renderClipMetrics({ holder: 'clips-2', jobCounts: {} });
    },
  });
  const empty = await (await fetch(server.url)).text();
  promtoolCheck(empty);
  assert.equal((await fetch(server.url.replace('/metrics', '/other'))).status, 404);
  assert.equal((await fetch(server.url, { method: 'POST' })).status, 404);
  fail = true;
  assert.equal((await fetch(server.url)).status, 500);
  fail = false;
  assert.equal((await fetch(server.url)).status, 200);
});
