/**
 * `clips`: alarm clips from the Ezviz cloud (the stand-in, with a real cloud's latency per call)
 * for N edges — a steady alarm rate plus a storm (stormPercent % of the fleet within 10 s) — first
 * with 1 `devicehub clips` worker, then with 3, one of them `kill -9`ed once the storm's clips are
 * stored (not restarted: the other two finish its jobs and the rest of the run); optionally a
 * third run with 3 workers under a tight Ezviz budget, where the budget, not the workers, binds.
 *
 * Alarms reach the edge actors the fastest honest way: `alarm` start/end messages enqueued on the
 * bus as a link enqueues them (no MQTT: the broker and link are measured by `ingest`), so the real
 * edge actor → outbox → gateway sink → clip queue path runs. Each run has its own Redis,
 * PostgreSQL, hub node, gateway, object store and stand-in (clips-setup.ts).
 */
import { CLIP_KINDS, planAlarms } from '../clips-alarms.ts';
import { clipsReport } from './clips-report.ts';
import { runClips } from './clips-run.ts';
import type { ScenarioOptions, ScenarioResult } from './common.ts';

export interface ClipsOptions {
  /** Share of the fleet (%) raising an alarm within 10 s (default 1). */
  readonly stormPercent: number;
  /** Seconds alarms are sent for (default 120); the storm starts at a sixth of it. */
  readonly durationSeconds: number;
  /** The stand-in's latency per call (default 200 ms). */
  readonly latencyMs: number;
  /** The Ezviz budget of runs 1 and 2 (calls/s), above what 3 workers ask (default 40). */
  readonly budgetPerSecond: number;
  /** The budget of the third run (calls/s); 0: no third run (default 4). */
  readonly tightBudgetPerSecond: number;
  /** Steady alarms per second over the fleet (default: one per edge every 3 hours). */
  readonly steadyPerSecond?: number;
  /** Jobs each worker runs at once (the command line's default 1; absent: the worker's own, 4). */
  readonly concurrency?: number;
  readonly settleTimeoutMs?: number;
  /** How long alarms last, shortest and longest (s; default 5..15). */
  readonly alarmSeconds?: readonly [number, number];
  /** Smoke runs: the storm's starts' spread (default 10 s) and the power cut's length after them (20 s). */
  readonly storm?: { readonly spreadS: number; readonly lastsS: number };
}

/** An alarm per edge every 6 hours (A): 5,000 edges ≈ 0.23 alarms/s, 80 % of kinds with a clip. */
const STEADY_PER_EDGE_PER_SECOND = 1 / (6 * 3600);

export async function clipsScenario(o: ScenarioOptions, c: ClipsOptions): Promise<ScenarioResult> {
  const steadyPerSecond = c.steadyPerSecond ?? o.edges * STEADY_PER_EDGE_PER_SECOND;
  const stormAtS = Math.round(c.durationSeconds / 6);
  const plan = planAlarms({
    edges: o.edges,
    seconds: c.durationSeconds,
    steadyPerSecond,
    stormPercent: c.stormPercent,
    stormAtS,
    ...(c.alarmSeconds === undefined ? {} : { lastsS: c.alarmSeconds }),
    ...(c.storm === undefined ? {} : { stormSpreadS: c.storm.spreadS, stormLastsS: c.storm.lastsS }),
  });
  const kinds = new Set<string>(CLIP_KINDS);
  const withClip = plan.filter((a) => kinds.has(a.alarm));
  // Every 25th steady clip's camera is unknown to the stand-in: those fail, with its reason.
  const unknownCameras = [
    ...new Set(withClip.filter((a) => !a.storm).flatMap((a, i) => (i % 25 === 12 ? [a.edge] : []))),
  ];
  const wanted = withClip.length;
  console.error(
    `bench clips: ${o.edges} edges, ${steadyPerSecond.toFixed(2)} alarms/s steady, a storm of ` +
      `${plan.filter((a) => a.storm).length} at ${stormAtS} s, ${c.durationSeconds} s; ${wanted} clips wanted` +
      ` (${unknownCameras.length} edges with a camera the stand-in does not know)`,
  );
  const common = {
    edges: o.edges,
    latencyMs: c.latencyMs,
    plan,
    wanted,
    unknownCameras,
    concurrency: c.concurrency,
    settleTimeoutMs: c.settleTimeoutMs,
  };
  const one = await runClips({
    ...common,
    label: '1 worker',
    workers: 1,
    budgetPerSecond: c.budgetPerSecond,
    kill: false,
  });
  const three = await runClips({
    ...common,
    label: '3 workers, one killed',
    workers: 3,
    budgetPerSecond: c.budgetPerSecond,
    kill: true,
  });
  const tight =
    c.tightBudgetPerSecond > 0
      ? await runClips({
          ...common,
          label: '3 workers, tight budget',
          workers: 3,
          budgetPerSecond: c.tightBudgetPerSecond,
          kill: false,
        })
      : undefined;
  return clipsReport({
    setup: {
      edges: o.edges,
      stormPercent: c.stormPercent,
      stormAlarms: plan.filter((a) => a.storm).length,
      steadyAlarmsPerSecond: Math.round(steadyPerSecond * 1000) / 1000,
      durationSeconds: c.durationSeconds,
      latencyMs: c.latencyMs,
      unknownCameras: unknownCameras.length,
      workerConcurrency: c.concurrency ?? 'default',
    },
    one,
    three,
    tight,
  });
}

/** The `clips` options from the command line (`npm run bench -- clips --storm-percent 1 …`). */
export function clipsOptions(values: Readonly<Record<string, unknown>>): ClipsOptions {
  const number = (flag: string, fallback: number, ok: (n: number) => boolean, what: string) => {
    const raw = values[flag];
    const n = raw === undefined ? fallback : Number(raw);
    if (!ok(n)) throw new RangeError(`--${flag} must be ${what}, got ${JSON.stringify(raw)}`);
    return n;
  };
  const whole = (n: number) => Number.isInteger(n) && n >= 1;
  // One job at a time per worker: with the storm's clips asked within 5 s, both runs are bound by
  // their workers, not by the alarms (a worker's own default is 4).
  const concurrency = values.concurrency === undefined ? 1 : Number(values.concurrency);
  if (!(Number.isInteger(concurrency) && concurrency >= 1))
    throw new RangeError(
      `--concurrency must be a positive integer, got ${JSON.stringify(values.concurrency)}`,
    );
  return {
    stormPercent: number('storm-percent', 1, (n) => n >= 0 && n <= 100, 'a percentage 0..100'),
    durationSeconds: number('duration', 120, (n) => Number.isInteger(n) && n >= 6, 'whole seconds ≥ 6'),
    latencyMs: number('latency-ms', 200, (n) => Number.isInteger(n) && n >= 0, 'whole milliseconds ≥ 0'),
    budgetPerSecond: number('budget', 40, whole, 'a whole number of calls per second ≥ 1'),
    tightBudgetPerSecond: number(
      'tight-budget',
      4,
      (n) => n === 0 || whole(n),
      'a whole number of calls per second (0: no third run)',
    ),
    concurrency,
  };
}
