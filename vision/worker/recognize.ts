/**
 * One run of a recognition job, from taken to verdict sent:
 *
 *   malformed → failed (no verdict: nothing to address it to) ·
 *   deadline passed → 'timeout', no inference (or 'invalid' when it passed waiting for a frame) ·
 *   no policy for the kind → 'invalid' · a frame not uploaded yet → delayed, tried again until the
 *   deadline · the frames into the micro-batch → judged by the kind's targets and confirmScore ·
 *   `visionVerdict` to `edge/<edgeId>`.
 *
 * A wait is never slept in the worker's slot: progress saved (`job.updateData`), job delayed
 * (`job.moveToDelayed`), DelayedError thrown. A failure that is not the frame's (the store, the
 * model, Redis) is tried again the same way until the deadline, then answered 'timeout' with the
 * failure as its reason: the kind's onTimeout decides, never a lost alarm. An undecodable frame is
 * the detector's ImageProblem, a verdict 'invalid' with its reason — never a crash.
 *
 * At least once: a worker killed after sending and before BullMQ marks the job completed leaves
 * the job to another, which sends the verdict again; the edge actor keeps the first.
 */
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { Logger } from '../../actors/mod.ts';
import { toError } from '../../bus/mod.ts';
import type { Detection, RecognitionKindPolicy, VisionVerdictPayload } from '../../edge/protocol/mod.ts';
import { frameKey, ObjectNotFoundError, type ObjectStore } from '../../objects/mod.ts';
import type { ImageProblemLike } from './detector-port.ts';
import { judge } from './judge.ts';
import type { BatchInfo, MicroBatcher } from './micro-batcher.ts';
import {
  type KindPolicyOf,
  type RecognizeJobData,
  type RecognizeProgress,
  recognizeJobProblem,
} from './recognize-job.ts';
import { countKey, type RecognizerStats } from './recognizer-stats.ts';

/** Backoff (ms): the first wait, and the longest (doubling in between). */
export interface Backoff {
  readonly firstMs: number;
  readonly maxMs: number;
}

export type FrameResult = readonly Detection[] | ImageProblemLike;

export interface RecognizeDeps {
  readonly store: ObjectStore;
  readonly batcher: MicroBatcher<Uint8Array, FrameResult>;
  readonly model: { readonly name: string; readonly version: string };
  /** Sends `visionVerdict` to `edge/<edgeId>`. */
  readonly sendVerdict: (edgeId: string, verdict: VisionVerdictPayload) => Promise<unknown>;
  readonly kindPolicyOf: KindPolicyOf;
  readonly log: Logger;
  readonly stats: RecognizerStats;
  /** Between looks for a frame not uploaded yet. */
  readonly frameRetry: Backoff;
  /** Between tries after a failure (the store, the model, Redis). */
  readonly errorRetry: Backoff;
  /** A stored frame larger than this is 'invalid' without being read. */
  readonly maxFrameBytes: number;
}

const NO_PROGRESS: RecognizeProgress & { readonly retries: number } = {
  frameWaits: 0,
  missing: [],
  retries: 0,
};

type Progress = RecognizeProgress & { readonly retries?: number };

export async function processRecognizeJob(
  job: Job<RecognizeJobData>,
  token: string | undefined,
  deps: RecognizeDeps,
): Promise<VisionVerdictPayload> {
  const problem = recognizeJobProblem(job.data);
  if (problem !== undefined) {
    deps.stats.malformed++;
    throw new UnrecoverableError(`recognition job ${job.id} is malformed: ${problem}`);
  }
  deps.stats.runs++;
  const { progress: saved, kind: jobKind, type: _type, ...request } = job.data;
  const progress: Progress = saved ?? NO_PROGRESS;
  const takenAt = Date.now();
  if (saved === undefined) deps.stats.queueWaitSeconds.observe(Math.max(0, takenAt - job.timestamp) / 1000);
  const log = deps.log.child({ edgeId: request.edgeId, eventId: request.eventId, alarm: request.alarm });
  const base = { eventId: request.eventId, alarm: request.alarm, since: request.since };
  const finish = async (verdict: VisionVerdictPayload): Promise<VisionVerdictPayload> => {
    await deps.sendVerdict(request.edgeId, verdict);
    countKey(deps.stats.verdicts, verdict.verdict);
    log.info(
      {
        verdict: verdict.verdict,
        reason: verdict.reason,
        queueMs: verdict.queueMs,
        inferMs: verdict.inferMs,
      },
      'recognition verdict',
    );
    return verdict;
  };
  const later = async (waitMs: number, next: Progress): Promise<never> => {
    await job.updateData({ ...job.data, progress: next });
    await job.moveToDelayed(Date.now() + Math.max(1, waitMs), token);
    throw new DelayedError();
  };

  try {
    const queueMs = Math.max(0, takenAt - job.timestamp);
    if (takenAt >= request.deadlineAt)
      return await finish({ ...base, ...(await expired(request, progress, deps.store, takenAt)), queueMs });
    const kind: RecognitionKindPolicy | undefined = jobKind ?? deps.kindPolicyOf(request.alarm);
    if (kind === undefined)
      return await finish({
        ...base,
        verdict: 'invalid',
        reason: `no recognition policy for the alarm kind ${request.alarm}`,
        queueMs,
      });
    const frames = await readFrames(request, deps);
    const missing = frames.flatMap((f, i) => (f === undefined ? [i] : []));
    if (missing.length > 0) {
      const left = request.deadlineAt - Date.now();
      deps.stats.frameWaits++;
      log.debug({ missing, leftMs: left }, 'frame not uploaded yet');
      // The last look is at the deadline itself: then 'invalid' (above), not a timeout.
      return await later(Math.min(backoff(deps.frameRetry, progress.frameWaits), Math.max(0, left)), {
        ...progress,
        frameWaits: progress.frameWaits + 1,
        missing,
      });
    }
    return await finish({ ...base, ...(await recognizeFrames(frames, kind, deps, job.timestamp)) });
  } catch (error) {
    if (error instanceof DelayedError) throw error;
    deps.stats.errors++;
    const reason = `recognition failed: ${toError(error).message}`;
    const retries = progress.retries ?? 0;
    const left = request.deadlineAt - Date.now();
    log.warn({ err: toError(error), retries, leftMs: left }, 'recognition run failed');
    if (left > 0)
      return await later(Math.min(backoff(deps.errorRetry, retries), left), {
        ...progress,
        retries: retries + 1,
      });
    return await finish({ ...base, verdict: 'timeout', reason });
  }
}

type VerdictFields = Omit<VisionVerdictPayload, 'eventId' | 'alarm' | 'since'>;

/** A job taken at or after its deadline: 'invalid' if it was waiting for a frame still missing, else 'timeout'. */
async function expired(
  request: RecognizeJobData,
  progress: Progress,
  store: ObjectStore,
  takenAt: number,
): Promise<Pick<VerdictFields, 'verdict' | 'reason'>> {
  const missing = progress.missing.length > 0 ? await missingFrames(request, store) : [];
  return missing.length > 0
    ? { verdict: 'invalid', reason: notUploaded(missing) }
    : { verdict: 'timeout', reason: `taken ${takenAt - request.deadlineAt} ms after its deadline` };
}

/** The frames through the micro-batch (an ImageProblem as it is), judged by the kind's policy. */
async function recognizeFrames(
  frames: readonly (Uint8Array | ImageProblemLike | undefined)[],
  kind: RecognitionKindPolicy,
  deps: RecognizeDeps,
  addedAt: number,
): Promise<VerdictFields> {
  const results = await Promise.all(
    frames.map((f) =>
      f instanceof Uint8Array ? deps.batcher.submit(f) : Promise.resolve({ result: f as FrameResult }),
    ),
  );
  const batches = results.flatMap((r) => ('batch' in r ? [r.batch as BatchInfo] : []));
  const judged = judge(
    results.map((r) => r.result),
    kind,
  );
  const first = Math.min(...batches.map((b) => b.startedAt), Date.now());
  return {
    verdict: judged.verdict,
    reason: judged.reason,
    model: { name: deps.model.name, version: deps.model.version },
    ...(judged.detections !== undefined ? { detections: judged.detections } : {}),
    ...(judged.frame !== undefined ? { frame: judged.frame } : {}),
    queueMs: Math.max(0, first - addedAt),
    inferMs: Math.round(Math.max(0, ...batches.map((b) => b.ms))),
  };
}

/** The job's frames: bytes, an ImageProblem for one too large to read, undefined for one not uploaded. */
async function readFrames(
  request: RecognizeJobData,
  deps: RecognizeDeps,
): Promise<(Uint8Array | ImageProblemLike | undefined)[]> {
  return await Promise.all(
    Array.from({ length: request.frames }, async (_, index) => {
      const key = frameKey(request.edgeId, request.eventId, index);
      try {
        const read = await deps.store.get(key);
        if (read.info.size > deps.maxFrameBytes) {
          await read.body.cancel();
          return {
            problem: 'too_large',
            reason: `the frame is ${read.info.size} bytes, over ${deps.maxFrameBytes}`,
          };
        }
        return new Uint8Array(await new Response(read.body).arrayBuffer());
      } catch (error) {
        if (error instanceof ObjectNotFoundError) return undefined;
        throw error;
      }
    }),
  );
}

async function missingFrames(request: RecognizeJobData, store: ObjectStore): Promise<number[]> {
  const infos = await Promise.all(
    Array.from({ length: request.frames }, (_, i) =>
      store.head(frameKey(request.edgeId, request.eventId, i)),
    ),
  );
  return infos.flatMap((info, i) => (info === undefined ? [i] : []));
}

function notUploaded(missing: readonly number[]): string {
  return missing.length === 1
    ? `frame not uploaded (frame ${missing[0]}) by the deadline`
    : `frames not uploaded (frames ${missing.join(', ')}) by the deadline`;
}

function backoff(b: Backoff, n: number): number {
  return Math.min(b.maxMs, b.firstMs * 2 ** Math.min(n, 20));
}
