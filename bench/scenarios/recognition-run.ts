/**
 * One run of the `recognition` bench: a fresh environment (recognition-setup.ts), N `devicehub
 * recognize` workers, the vision events sent (frame upload, then the alarm), a sample a second
 * (the verdicts in the edges' states, the queue's backlog, the workers' images and CPU: the
 * progress line and the plot), optionally one worker `kill -9`ed (not restarted) while the burst's
 * backlog is being worked; then every event's verdict awaited and the run's accounts taken.
 */
import type { EdgeState } from '../../edge/mod.ts';
import { simulatedPassword } from '../../edge/mod.ts';
import { expectedVerdict, type Photo, type PlannedEvent, sendVisionEvents } from '../recognition-events.ts';
import { startRecognitionWorkers } from '../recognition-workers.ts';
import { sleep } from './common.ts';
import { startRecognitionEnv } from './recognition-setup.ts';

export interface RecognitionRunOptions {
  readonly label: string;
  readonly edges: number;
  readonly workers: number;
  readonly plan: readonly PlannedEvent[];
  readonly photos: Record<Photo, Buffer>;
  readonly kill: boolean;
  readonly maxBatch: number;
  readonly lockMs: number;
  /** Longest wait for the last verdicts after the last event was sent. */
  readonly settleTimeoutMs?: number;
}

export interface RecognitionSample {
  readonly t: number;
  readonly verdicts: number;
  readonly backlog: number;
  readonly images: number;
  readonly cpuMs: number;
}

export interface EventOutcome {
  readonly eventId: string;
  readonly burst: boolean;
  readonly alarm: string;
  readonly expected: 'confirmed' | 'dismissed';
  readonly uploadStatus: number;
  readonly verdict: string | null;
  readonly reason?: string;
  readonly uploadToVerdictMs: number | null;
  /** When its upload began and its verdict was recorded (ms, wall clock). */
  readonly uploadAt: number;
  readonly verdictAt: number | null;
}

export interface RecognitionRunResult {
  readonly label: string;
  readonly workers: number;
  readonly outcomes: readonly EventOutcome[];
  readonly samples: readonly RecognitionSample[];
  readonly images: number;
  readonly batches: number;
  readonly cpuMs: number;
  readonly loadCpuMs: Readonly<Record<string, number>>;
  /** Images per second over the seconds the queue had a backlog throughout (before any kill). */
  readonly busyImagesPerSecond: number;
  readonly busySeconds: number;
  readonly kill: { worker: string; atSecond: number; heldJobs: readonly string[] } | null;
  readonly seconds: number;
}

const FINAL = new Set(['confirmed', 'dismissed', 'timeout', 'invalid', 'shed']);

export async function runRecognition(o: RecognitionRunOptions): Promise<RecognitionRunResult> {
  const begun = Date.now();
  const log = (line: string) =>
    console.error(`bench recognition [${o.label}] +${((Date.now() - begun) / 1000).toFixed(1)} s: ${line}`);
  await using env = await startRecognitionEnv({ edges: o.edges, log });
  log(`starting ${o.workers} worker(s) (CPU, 1 thread, max batch ${o.maxBatch}, lock ${o.lockMs} ms)…`);
  await using workers = await startRecognitionWorkers({
    count: o.workers,
    cliArgs: env.cluster.cliArgs,
    objectStoreUrl: env.objectStoreUrl,
    maxBatch: o.maxBatch,
    lockMs: o.lockMs,
  });
  // The canary's jobs (no frame) are answered before the run begins.
  await waitBacklog(env.queue, 30_000);
  const before = await workers.read();
  log(`${o.plan.length} vision events (${o.plan.filter((e) => e.burst).length} in the burst)…`);
  const sender = sendVisionEvents(o.plan, {
    run: `r${o.workers}`,
    gatewayUrl: env.gatewayUrl,
    photos: o.photos,
    edgeId: (i) => env.ids[i]!,
    secretOf: simulatedPassword,
    send: (id, message) => env.client.send(id, 'alarm', message),
  });
  const ids = sender.events.map((e) => e.edgeId);
  const states = async () => {
    const list = await env.cluster.edgeStates(ids.length, (i) => ids[i]!);
    return new Map(ids.map((id, i) => [id, list[i]]));
  };
  const samples: RecognitionSample[] = [];
  let kill: RecognitionRunResult['kill'] = null;
  let killed = false;
  let busySeconds = 0;
  let busyImages = 0;
  let prev: { backlog: number; images: number; at: number } | undefined;
  const verdictsIn = (byEdge: Map<string, EdgeState | undefined>) =>
    sender.events.filter((e) => FINAL.has(recordOf(byEdge.get(e.edgeId), e.eventId)?.status ?? '')).length;
  const sample = async () => {
    const [byEdge, counts, reading] = await Promise.all([
      states(),
      env.queue.getJobCounts('waiting', 'prioritized', 'active'),
      workers.read(),
    ]);
    const backlog = (counts.waiting ?? 0) + (counts.prioritized ?? 0);
    const images = reading.images - before.images;
    const t = Math.round((Date.now() - sender.started) / 1000);
    const verdicts = verdictsIn(byEdge);
    samples.push({ t, verdicts, backlog, images, cpuMs: reading.cpuMs - before.cpuMs });
    if (prev !== undefined && prev.backlog > 0 && backlog > 0 && !killed) {
      busySeconds += (Date.now() - prev.at) / 1000;
      busyImages += images - prev.images;
    }
    prev = { backlog, images, at: Date.now() };
    process.stderr.write(
      `\r  ${t} s  events ${sender.sent()}/${o.plan.length}  backlog ${backlog}  active ${counts.active ?? 0}` +
        `  images ${images}  verdicts ${verdicts}   `,
    );
    return { verdicts, active: counts.active ?? 0 };
  };
  let sampling = Promise.resolve();
  const timer = setInterval(() => {
    sampling = sampling.then(() =>
      sample().then(
        () => {},
        () => {},
      ),
    );
  }, 1000);
  try {
    const killing = o.kill
      ? killOne({
          ...o,
          queue: env.queue,
          workers,
          busy: () => busySeconds,
          started: sender.started,
          onKill: () => {
            killed = true;
          },
        })
      : undefined;
    await sender.done;
    kill = (await killing) ?? null;
    process.stderr.write('\n');
    log('every event sent; waiting for the last verdicts…');
    const deadline = Date.now() + (o.settleTimeoutMs ?? 60_000);
    while (Date.now() < deadline && verdictsIn(await states()) < sender.events.length) await sleep(500);
  } finally {
    clearInterval(timer);
    await sampling;
    process.stderr.write('\n');
  }
  const end = await workers.read();
  const byEdge = await states();
  const outcomes = sender.events.map((e): EventOutcome => {
    const r = recordOf(byEdge.get(e.edgeId), e.eventId);
    const final = r !== undefined && FINAL.has(r.status);
    return {
      eventId: e.eventId,
      burst: e.burst,
      alarm: e.alarm,
      expected: expectedVerdict(e.alarm, e.photo),
      uploadStatus: e.uploadStatus ?? 0,
      verdict: final ? r.status : null,
      ...(r?.reason === undefined ? {} : { reason: r.reason }),
      uploadToVerdictMs: final && e.uploadStartAt !== undefined ? r.at - e.uploadStartAt : null,
      uploadAt: e.uploadStartAt ?? 0,
      verdictAt: final ? r.at : null,
    };
  });
  log(`verdicts ${outcomes.filter((x) => x.verdict !== null).length}/${outcomes.length}`);
  return {
    label: o.label,
    workers: o.workers,
    outcomes,
    samples,
    images: end.images - before.images,
    batches: end.batches - before.batches,
    cpuMs: end.cpuMs - before.cpuMs,
    loadCpuMs: workers.loadCpuMs,
    busyImagesPerSecond: busySeconds === 0 ? 0 : busyImages / busySeconds,
    busySeconds,
    kill,
    seconds: (Date.now() - sender.started) / 1000,
  };
}

function recordOf(state: EdgeState | undefined, eventId: string) {
  return state?.vision?.recent.findLast((r) => r.eventId === eventId);
}

/** Waits until nothing waits in the queue and nothing is active (or the time is up). */
async function waitBacklog(queue: RecognitionQueue, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const c = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed');
    if (Object.values(c).every((n) => n === 0)) return;
    await sleep(250);
  }
}

type RecognitionQueue = Awaited<ReturnType<typeof startRecognitionEnv>>['queue'];

/**
 * After 8 seconds of backlog (the burst, both workers busy) — or, when the burst leaves none that
 * long, the first job active after the last event — picks the worker holding an active job and
 * kills it with SIGKILL; its jobs are taken again once their lock expires.
 */
async function killOne(o: {
  queue: RecognitionQueue;
  workers: Awaited<ReturnType<typeof startRecognitionWorkers>>;
  busy: () => number;
  plan: readonly PlannedEvent[];
  started: number;
  onKill: () => void;
}): Promise<{ worker: string; atSecond: number; heldJobs: string[] }> {
  const lastMs = Math.max(0, ...o.plan.map((e) => e.atMs));
  const giveUp = o.started + lastMs + 20_000;
  const ids = [...o.workers.workers.keys()];
  for (;;) {
    const ready = o.busy() >= 8 || Date.now() > o.started + lastMs;
    if (ready) {
      const active = await o.queue.getJobs(['active']);
      const holder = active.find((j) => j.processedBy !== undefined && ids.includes(j.processedBy));
      if (holder !== undefined || Date.now() > giveUp) {
        const victim = holder?.processedBy ?? ids.at(-1)!;
        o.onKill();
        await o.workers.kill(victim);
        const atSecond = Math.round((Date.now() - o.started) / 1000);
        process.stderr.write(`\n  ${atSecond} s  kill -9 ${victim}\n`);
        return {
          worker: victim,
          atSecond,
          heldJobs: active.filter((j) => j.processedBy === victim).map((j) => j.id ?? '?'),
        };
      }
    }
    await sleep(200);
  }
}
