/**
 * One run of the `clips` bench: a fresh environment (clips-setup.ts), N `devicehub clips` workers,
 * the alarm plan sent to the edge actors, a sample a second (progress line and plot), optionally
 * one worker `kill -9`ed (not restarted) once the storm's clips are settled, at a moment it holds a
 * clip in flight; then every wanted clip awaited (stored or failed) and the run's accounts taken.
 */
import { clipIdOf } from '../../edge/mod.ts';
import { CLIP_KINDS, type PlannedAlarm, sendAlarms } from '../clips-alarms.ts';
import { watchClipObjects } from '../clips-objects.ts';
import { countByStatus, type RunTally, readClipRows, tallyRun } from '../clips-tally.ts';
import { startClipWorkers } from '../clips-workers.ts';
import { edgeId } from '../cluster.ts';
import { CANARY_EDGE, startClipsEnv } from './clips-setup.ts';
import { sleep } from './common.ts';

export interface ClipsRunOptions {
  readonly label: string;
  readonly edges: number;
  readonly workers: number;
  readonly budgetPerSecond: number;
  readonly latencyMs: number;
  readonly plan: readonly PlannedAlarm[];
  /** Alarms of configured kinds in the plan (the clips wanted). */
  readonly wanted: number;
  readonly unknownCameras: readonly number[];
  /** Kill -9 one worker once the storm's clips are settled. */
  readonly kill: boolean;
  readonly concurrency?: number;
  /** Longest wait for the last clips after the last alarm ended. */
  readonly settleTimeoutMs?: number;
}

export interface ClipsRunSample {
  readonly t: number;
  readonly stored: number;
  readonly settled: number;
  readonly ezvizCallsPerSecond: number;
}

export interface KillRecord {
  readonly worker: string;
  readonly atSecond: number;
  /** Clips the killed worker had in flight, with their step then and their status at the end. */
  readonly inFlight: readonly { id: string; step: string; finally: string; finishedBy: string | null }[];
}

export interface ClipsRunResult {
  readonly label: string;
  readonly workers: number;
  readonly budgetPerSecond: number;
  readonly tally: RunTally;
  readonly ezvizCalls: number;
  readonly ezvizCallsMaxPerSecond: number;
  readonly samples: readonly ClipsRunSample[];
  readonly kill: KillRecord | null;
  readonly seconds: number;
}

const IN_FLIGHT = ['saving', 'downloading', 'waiting'];

export async function runClips(o: ClipsRunOptions): Promise<ClipsRunResult> {
  const begun = Date.now();
  const log = (line: string) =>
    console.error(`bench clips [${o.label}] +${((Date.now() - begun) / 1000).toFixed(1)} s: ${line}`);
  await using env = await startClipsEnv({
    edges: o.edges,
    latencyMs: o.latencyMs,
    unknownCameras: o.unknownCameras,
    log,
  });
  const { sql, standIn } = env;
  log(
    `starting ${o.workers} worker(s), Ezviz budget ${o.budgetPerSecond}/s, stand-in ${o.latencyMs} ms a call…`,
  );
  await using workers = await startClipWorkers({
    count: o.workers,
    cliArgs: env.cluster.cliArgs,
    databaseUrl: env.databaseUrl,
    objectStoreUrl: env.objectStoreUrl,
    ezviz: { url: standIn.url, appKey: standIn.appKey, appSecret: standIn.appSecret },
    budgetPerSecond: o.budgetPerSecond,
    concurrency: o.concurrency,
  });
  await using objects = watchClipObjects(env.objectsDir);
  // The canary's clip (the policy check) is settled first, and its calls are not the run's.
  await waitSettled(sql, 0, 60_000);
  const callsBefore = standIn.stats.calls;
  log(`${o.plan.length} alarms (${o.wanted} of kinds with a clip) over ${o.edges} edges…`);
  const sender = sendAlarms(o.plan, {
    edgeId,
    send: (id, message) => env.client.send(id, 'alarm', message),
  });
  const samples: ClipsRunSample[] = [];
  let lastCalls = callsBefore;
  const sample = async () => {
    const counts = await countByStatus(sql, CANARY_EDGE);
    const calls = standIn.stats.calls;
    const stored = counts.stored ?? 0;
    const settled = stored + (counts.failed ?? 0);
    const t = Math.round((Date.now() - sender.started) / 1000);
    samples.push({ t, stored, settled, ezvizCallsPerSecond: calls - lastCalls });
    lastCalls = calls;
    const open = IN_FLIGHT.map((s) => `${s} ${counts[s] ?? 0}`).join('  ');
    process.stderr.write(
      `\r  ${t} s  alarm messages ${sender.sent()}/${o.plan.length * 2}  queued ${counts.queued ?? 0}  ${open}` +
        `  stored ${stored}  failed ${counts.failed ?? 0}  Ezviz ${samples.at(-1)!.ezvizCallsPerSecond}/s` +
        ` (max ${standIn.stats.maxCallsPerSecond})   `,
    );
    return { settled, counts };
  };
  const timer = setInterval(() => void sample().catch(() => {}), 1000);
  let kill: KillRecord | null = null;
  try {
    const killing = o.kill ? killOne(o, { sql, workers, sender }) : undefined;
    await sender.done;
    const killed = await killing;
    process.stderr.write('\n');
    log('every alarm sent; waiting for the last clips…');
    await waitSettled(sql, o.wanted, o.settleTimeoutMs ?? 300_000);
    kill = killed === undefined ? null : await finishKill(sql, killed);
  } finally {
    clearInterval(timer);
    process.stderr.write('\n');
  }
  await objects.look();
  const rows = await readClipRows(sql, CANARY_EDGE);
  const tally = tallyRun({
    alarms: sender.alarms,
    rows,
    unknownCameraEdges: new Set(o.unknownCameras.map(edgeId)),
    tasksTwice: new Set([...standIn.stats.tasksByFileId].filter(([, n]) => n > 1).map(([id]) => id)),
    fetchedTwice: standIn.stats.fetchedTwice(),
    storedTwice: objects.storedTwice,
  });
  log(
    `stored ${tally.clipsStored}, failed ${tally.clipsFailed}, missing ${tally.missing}, duplicates ${tally.duplicates}`,
  );
  return {
    label: o.label,
    workers: o.workers,
    budgetPerSecond: o.budgetPerSecond,
    tally,
    ezvizCalls: standIn.stats.calls - callsBefore,
    ezvizCallsMaxPerSecond: standIn.stats.maxCallsPerSecond,
    samples,
    kill,
    seconds: (Date.now() - sender.started) / 1000,
  };
}

/** Waits until at least `wanted` rows exist and none is still queued or in flight. */
async function waitSettled(sql: ClipsSql, wanted: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const counts = await countByStatus(sql, CANARY_EDGE);
    const all = Object.values(counts).reduce((a, b) => a + b, 0);
    const open = all - (counts.stored ?? 0) - (counts.failed ?? 0);
    const [canary] = await sql<{ n: number }[]>`
      select count(*)::int as n from clips where edge_id = ${CANARY_EDGE} and status not in ('stored', 'failed')`;
    if (all >= wanted && open === 0 && (canary?.n ?? 0) === 0) return true;
    await sleep(500);
  }
  return false;
}

type ClipsSql = Parameters<typeof countByStatus>[0];

/** Whether every one of `ids` has a settled row. */
async function allSettled(sql: ClipsSql, ids: readonly string[]): Promise<boolean> {
  if (ids.length === 0) return true;
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from clips where id in ${sql(ids)} and status in ('stored', 'failed')`;
  return (row?.n ?? 0) === ids.length;
}

interface Killed {
  readonly worker: string;
  readonly atSecond: number;
  readonly inFlight: readonly { id: string; step: string }[];
}

/**
 * Once the storm is over and its clips settled, picks a worker holding a clip in flight (saving
 * or downloading preferred, up to 20 s for one) and kills it with SIGKILL.
 */
async function killOne(
  o: ClipsRunOptions,
  r: {
    sql: ClipsSql;
    workers: Awaited<ReturnType<typeof startClipWorkers>>;
    sender: ReturnType<typeof sendAlarms>;
  },
): Promise<Killed> {
  const stormEndMs = Math.max(...o.plan.filter((a) => a.storm).map((a) => a.endMs), 0);
  while (Date.now() < r.sender.started + stormEndMs + 1000) await sleep(500);
  const kinds = new Set<string>(CLIP_KINDS);
  const stormIds = r.sender.alarms
    .filter((a) => a.storm && kinds.has(a.alarm) && a.sentStartAt !== undefined)
    .map((a) => clipIdOf(a.edgeId, a.alarm, a.sentStartAt!));
  while (!(await allSettled(r.sql, stormIds))) await sleep(500);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const rows = await r.sql<{ id: string; status: string; worker: string | null }[]>`
      select id, status, worker from clips where status in ('saving', 'downloading', 'waiting')
         and worker is not null and edge_id <> ${CANARY_EDGE}`;
    const active = rows.filter((row) => row.status !== 'waiting');
    const holder = (active[0] ?? (Date.now() > deadline ? rows[0] : undefined))?.worker;
    // The row names its worker by the id it was started with (maybe with more after it).
    const ids = [...r.workers.workers.keys()];
    const picked = holder == null ? undefined : ids.find((id) => holder === id || holder.includes(id));
    // Nothing in flight for 20 s, or nothing more to come: the last worker.
    const idle = rows.length === 0 && (r.sender.sent() === o.plan.length * 2 || Date.now() > deadline);
    const victim = picked ?? (idle || Date.now() > deadline ? ids.at(-1) : undefined);
    if (victim !== undefined) {
      await r.workers.kill(victim);
      const atSecond = Math.round((Date.now() - r.sender.started) / 1000);
      process.stderr.write(`\n  ${atSecond} s  kill -9 ${victim}\n`);
      return {
        worker: victim,
        atSecond,
        inFlight: rows
          .filter((row) => row.worker === victim || row.worker?.includes(victim) === true)
          .map((row) => ({ id: row.id, step: row.status })),
      };
    }
    await sleep(200);
  }
}

async function finishKill(sql: ClipsSql, killed: Killed): Promise<KillRecord> {
  const ids = killed.inFlight.map((c) => c.id);
  const rows =
    ids.length === 0
      ? []
      : await sql<{ id: string; status: string; worker: string | null }[]>`
          select id, status, worker from clips where id in ${sql(ids)}`;
  const end = new Map(rows.map((row) => [row.id, row]));
  return {
    worker: killed.worker,
    atSecond: killed.atSecond,
    inFlight: killed.inFlight.map((c) => ({
      ...c,
      finally: end.get(c.id)?.status ?? 'gone',
      finishedBy: end.get(c.id)?.worker ?? null,
    })),
  };
}
