/**
 * `recognition`: secondary image recognition for N edges — vision events at the workload's rate (a
 * few per edge per day (A): 4) plus a burst (1 % of the fleet within 10 s, an area's power cut),
 * each a real test photograph uploaded through the gateway's frames route with the edge's own
 * credentials and an alarm start naming it sent to a hub node's edge actor (so the real actor →
 * outbox → gateway sink → model queue path runs) — first with 1 `devicehub recognize` worker, then
 * with 2, one of them `kill -9`ed while the burst's backlog is worked (not restarted). Each run has
 * its own Redis, hub node, gateway and object store (recognition-setup.ts).
 */

import { statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { DEFAULT_RECOGNITION_POLICY } from '../../edge/mod.ts';
import { modelFile } from '../../infra/models.ts';
import { jpegPhotos, planVisionEvents } from '../recognition-events.ts';
import type { ScenarioOptions, ScenarioResult } from './common.ts';
import { recognitionReport } from './recognition-report.ts';
import { type RecognitionRunResult, runRecognition } from './recognition-run.ts';

export interface RecognitionOptions {
  /** Events in the burst (default 1 % of the fleet), within 10 s at a third of the run. */
  readonly burst: number;
  /** Workers of each run, in order (default [1, 2]); a run of more than one kills one. */
  readonly workers: readonly number[];
  /** Images per model run (the worker's --max-batch, default 4). */
  readonly maxBatch: number;
  /** A dead worker's jobs are taken again after this (the worker's --lock-ms; default 3000). */
  readonly lockMs: number;
  /** Steady events per second over the fleet (default: 4 per edge per day). */
  readonly steadyPerSecond?: number;
  readonly burstSpreadS?: number;
  readonly settleTimeoutMs?: number;
}

/** Vision events per edge per day (A): "a few per day" in docs/workload.md. */
const EVENTS_PER_EDGE_PER_DAY = 4;

export async function recognitionScenario(
  o: ScenarioOptions,
  c: RecognitionOptions,
): Promise<ScenarioResult> {
  const steadyPerSecond = c.steadyPerSecond ?? (o.edges * EVENTS_PER_EDGE_PER_DAY) / 86_400;
  const burstAtS = Math.round(o.seconds / 3);
  const plan = planVisionEvents({
    edges: o.edges,
    seconds: o.seconds,
    steadyPerSecond,
    burst: c.burst,
    burstAtS,
    ...(c.burstSpreadS === undefined ? {} : { burstSpreadS: c.burstSpreadS }),
  });
  const model = modelFile();
  const photos = await jpegPhotos();
  const setup = {
    edges: o.edges,
    seconds: o.seconds,
    steadyEventsPerSecond: Math.round(steadyPerSecond * 1000) / 1000,
    burstEvents: c.burst,
    burstAtSecond: burstAtS,
    framesVia: 'gateway PUT /v1/edges/{id}/frames/{eventId} (edge Basic credentials) → file:// object store',
    policy: Object.fromEntries(
      Object.entries(DEFAULT_RECOGNITION_POLICY.kinds).map(([k, v]) => [
        k,
        `${v.deadlineMs} ms, ${v.forward}`,
      ]),
    ),
    model: { name: model.name, version: model.version, bytes: statSync(model.path).size },
    provider: 'cpu (onnxruntime-node, 1 intra-op thread per worker)',
    maxBatch: c.maxBatch,
    lockMs: c.lockMs,
    cores: cpus().length,
    loadAverageAtStart: Math.round(loadavg()[0]! * 10) / 10,
  };
  console.error(
    `bench recognition: ${o.edges} edges, ${setup.steadyEventsPerSecond} events/s steady, a burst of ` +
      `${c.burst} at ${burstAtS} s, ${o.seconds} s; ${plan.length} events; model ${model.name}@${model.version} ` +
      `(${(setup.model.bytes / 1e6).toFixed(1)} MB); workers ${c.workers.join(' then ')}`,
  );
  const runs: RecognitionRunResult[] = [];
  for (const workers of c.workers)
    runs.push(
      await runRecognition({
        label: workers === 1 ? '1 worker' : `${workers} workers, one killed`,
        edges: o.edges,
        workers,
        plan,
        photos,
        kill: workers > 1,
        maxBatch: c.maxBatch,
        lockMs: c.lockMs,
        ...(c.settleTimeoutMs === undefined ? {} : { settleTimeoutMs: c.settleTimeoutMs }),
      }),
    );
  return recognitionReport({ setup, runs });
}

/** The `recognition` options from the command line (`npm run bench -- recognition --burst 50 …`). */
export function recognitionOptions(
  values: Readonly<Record<string, unknown>>,
  edges: number,
): RecognitionOptions {
  const whole = (flag: string, fallback: number, min: number) => {
    const raw = values[flag];
    const n = raw === undefined ? fallback : Number(raw);
    if (!(Number.isInteger(n) && n >= min))
      throw new RangeError(`--${flag} must be a whole number ≥ ${min}, got ${JSON.stringify(raw)}`);
    return n;
  };
  const rawWorkers = typeof values.workers === 'string' ? values.workers : '1,2';
  const workers = rawWorkers.split(',').map(Number);
  if (!workers.every((n) => Number.isInteger(n) && n >= 1 && n <= 8))
    throw new RangeError(
      `--workers must be a list of worker counts 1..8 (e.g. 1,2), got ${JSON.stringify(rawWorkers)}`,
    );
  return {
    burst: whole('burst', Math.round(edges / 100), 0),
    workers,
    maxBatch: whole('max-batch', 4, 1),
    lockMs: whole('lock-ms', 3000, 500),
  };
}
