/**
 * One run of a clip job: from wherever its saved progress says (clip-job.ts) to the next wait or
 * to the end. A wait — Ezviz's task still running, a retryable failure backing off — is never
 * slept in the worker's slot: the progress is saved (`job.updateData`), the job moved to the
 * delayed set (`job.moveToDelayed`) and DelayedError thrown, so BullMQ hands the slot to the next
 * job and the job back to any worker when its time comes.
 *
 * Exactly once: the Ezviz task is named by the clip id (fileId: saving again answers the same
 * task), the objects by the clip id (storing again replaces them with the same bytes), and the
 * row goes 'stored' once (clip-row.ts); a job whose row is already final only sends its result
 * again (the edge actor ignores a result it already has).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { Logger } from '../../actors/mod.ts';
import type { ClipCamera, ClipRequest, ClipResultPayload } from '../../edge/protocol/mod.ts';
import type { Db } from '../../gateway/db/database.ts';
import type { ObjectStore } from '../../objects/mod.ts';
import type { EzvizClient } from '../ezviz/mod.ts';
import { checkClip, extractPoster } from '../media/mod.ts';
import { configuredCamera } from './camera.ts';
import { ClipError, classifyError } from './clip-error.ts';
import { type ClipJobData, type ClipProgress, checkClipJob, NO_PROGRESS } from './clip-job.ts';
import { type ClipOutcome, clipIdentity, failClip, sendAgain } from './clip-results.ts';
import { ensureClipRow, markClipStep, markClipStored } from './clip-row.ts';
import { type ClipWorkerStats, countCode } from './clip-stats.ts';
import { downloadClip } from './download-clip.ts';
import { storeClip } from './store-clip.ts';

/** Backoffs (ms): the first wait, and the longest. */
export interface Backoff {
  readonly firstMs: number;
  readonly maxMs: number;
}

export interface ClipJobDeps {
  readonly db: Db;
  readonly store: ObjectStore;
  readonly ezviz: EzvizClient;
  /** Sends `clipResult` to `edge/<edgeId>`. */
  readonly sendResult: (edgeId: string, result: ClipResultPayload) => Promise<unknown>;
  readonly holder: string;
  readonly log: Logger;
  readonly stats: ClipWorkerStats;
  /** Where downloads are kept while checked (one folder per run, removed after). */
  readonly tmpDir: string;
  /** Between polls of a running Ezviz task (grows ×1.5 per poll). */
  readonly poll: Backoff;
  /** Between tries after a retryable failure (doubles per failure in a row). */
  readonly retry: Backoff;
  /** Download tries per run (an expired URL asked again, a cut download tried again). */
  readonly downloadAttempts: number;
  /** How much shorter than its window a clip may be. */
  readonly toleranceMs?: number;
}

/** What a step decided: go on, wait (a poll, a backoff), or stop with a final status. */
type Next = { readonly wait: number; readonly progress: ClipProgress } | { readonly done: ClipOutcome };

export async function processClipJob(
  job: Job<ClipJobData>,
  token: string | undefined,
  deps: ClipJobDeps,
): Promise<ClipOutcome> {
  const problem = checkClipJob(job.data);
  if (problem !== undefined) {
    countCode(deps.stats.failed, 'MALFORMED');
    throw new UnrecoverableError(`clip job ${job.id} is malformed: ${problem}`);
  }
  deps.stats.runs++;
  const { progress = NO_PROGRESS, ...request } = job.data;
  const log = deps.log.child({ clipId: request.clipId, edgeId: request.edgeId });
  let step = 'reading the clip row';
  const current = { progress };
  let next: Next;
  try {
    next = await run(request, current, {
      deps: { ...deps, log },
      stepping: (s) => {
        step = s;
      },
      // Saved at once, not only at the next wait: a worker killed now leaves the task to the next.
      save: (p) => job.updateData({ ...request, progress: p }),
    });
  } catch (error) {
    const failure = classifyError(error, step);
    try {
      next = await onFailure(request, current.progress, failure, { ...deps, log });
    } catch (second) {
      // Recording the failure failed (database, Redis): try the whole run again later — or, past
      // the deadline, leave the job to BullMQ's failed set with both reasons.
      next = await onFailure(
        request,
        current.progress,
        classifyError(second, `recording "${failure.message}"`),
        {
          ...deps,
          log,
        },
      );
    }
  }
  if ('done' in next) {
    const { done } = next;
    // A clip failed now: the job fails too (BullMQ's failed set, kept 30 days), without retries.
    if (done.status === 'failed' && done.resent !== true)
      throw new UnrecoverableError(`${done.code}: ${done.reason}`);
    return done;
  }
  await job.updateData({ ...request, progress: next.progress });
  await job.moveToDelayed(Date.now() + next.wait, token);
  throw new DelayedError();
}

async function run(
  request: ClipRequest,
  current: { progress: ClipProgress },
  o: {
    readonly deps: ClipJobDeps;
    readonly stepping: (step: string) => void;
    readonly save: (progress: ClipProgress) => Promise<void>;
  },
): Promise<Next> {
  const { deps, stepping } = o;
  const { db, ezviz, holder } = deps;
  const row = await ensureClipRow(db, request);
  if (row.status === 'stored' || row.status === 'failed')
    return { done: await sendAgain(request, row, deps) };
  if (row.status === 'deleted') return { done: { status: 'deleted' } };
  let { progress } = current;
  if (progress.taskId === undefined && row.ezvizTaskId !== null && row.cameraSerial !== null) {
    // The job's data lost the step (a worker killed between the row's update and the job's): the row has it.
    progress = {
      ...progress,
      taskId: row.ezvizTaskId,
      camera: { serial: row.cameraSerial, channel: row.cameraChannel ?? 1 },
    };
  }

  stepping('finding the camera');
  const camera: ClipCamera | undefined =
    progress.camera ?? (await configuredCamera(db, request.edgeId)) ?? request.camera;
  if (camera === undefined)
    throw new ClipError('NO_CAMERA', `edge ${request.edgeId} names no camera (birth or configuration)`);

  let { taskId } = progress;
  if (taskId === undefined) {
    stepping(`asking Ezviz to save the recording of ${camera.serial}/${camera.channel}`);
    await markClipStep(db, request.clipId, { status: 'saving', worker: holder, camera, newAttempt: true });
    ({ taskId } = await ezviz.saveRecording({
      fileId: request.clipId,
      deviceSerial: camera.serial,
      channelNo: camera.channel,
      startMs: request.window.start,
      endMs: request.window.end,
    }));
    progress = { ...progress, camera, taskId, retries: 0 };
    current.progress = progress;
    await o.save(progress);
    await markClipStep(db, request.clipId, { status: 'waiting', worker: holder, taskId });
    deps.log.info({ taskId }, 'Ezviz saves the clip');
  }

  stepping(`waiting for Ezviz task ${taskId}`);
  const task = await ezviz.task(taskId);
  if (task.state === 'failed')
    throw new ClipError('TASK_FAILED', `Ezviz task ${taskId} failed: ${task.reason ?? 'no reason given'}`);
  const file = task.files.find((f) => f.fileId === request.clipId) ?? task.files[0];
  if (task.state === 'running' || file === undefined) {
    deps.stats.polls++;
    const polls = progress.polls + 1;
    if (Date.now() >= request.deadlineAt)
      throw new ClipError(
        'NOT_READY',
        `the recording was still not in the cloud at the deadline ${new Date(request.deadlineAt).toISOString()}: Ezviz task ${taskId} running after ${polls} polls`,
      );
    const wait = growing(deps.poll, progress.polls, 1.5);
    return {
      wait: Math.min(wait, Math.max(0, request.deadlineAt - Date.now())),
      progress: { ...progress, polls },
    };
  }

  stepping(`downloading, checking and storing Ezviz task ${taskId}'s file`);
  await markClipStep(db, request.clipId, { status: 'downloading', worker: holder });
  return await fetchAndStore(request, { camera, taskId, fileId: file.fileId }, deps);
}

async function fetchAndStore(
  request: ClipRequest,
  from: { readonly camera: ClipCamera; readonly taskId: string; readonly fileId: string },
  deps: ClipJobDeps,
): Promise<Next> {
  const { db, ezviz, stats } = deps;
  const dir = await mkdtemp(join(deps.tmpDir, `${request.clipId}-`));
  try {
    const videoPath = join(dir, 'video.mp4');
    const posterPath = join(dir, 'poster.jpg');
    const file = await downloadClip({
      url: () => ezviz.downloadUrl({ taskId: from.taskId, fileId: from.fileId }),
      dest: videoPath,
      attempts: deps.downloadAttempts,
      log: deps.log,
      onRetry: (why) => void stats.downloadRetries[why]++,
    });
    const windowMs = request.window.end - request.window.start;
    const probe = await checkClip(videoPath, { windowMs, toleranceMs: deps.toleranceMs });
    await extractPoster(videoPath, posterPath);
    const keys = await storeClip(deps.store, {
      request,
      camera: from.camera,
      taskId: from.taskId,
      videoPath,
      posterPath,
      bytes: file.bytes,
      sha256: file.sha256,
      probe,
    });
    const stored = await markClipStored(db, request.clipId, {
      videoKey: keys.videoKey,
      posterKey: keys.posterKey,
      bytes: file.bytes,
      sha256: file.sha256,
      durationMs: probe.durationMs,
      worker: deps.holder,
    });
    if (stored) {
      stats.stored++;
      stats.alarmEndToStoredMs.record(Date.now() - (request.end ?? request.requestedAt));
      deps.log.info({ bytes: file.bytes, sha256: file.sha256, durationMs: probe.durationMs }, 'clip stored');
    }
    await deps.sendResult(request.edgeId, {
      ...clipIdentity(request),
      status: 'stored',
      bytes: file.bytes,
      sha256: file.sha256,
      durationMs: probe.durationMs,
    });
    return { done: { status: 'stored' } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A retryable failure backs off until the deadline; any other, or one past it, fails the clip. */
async function onFailure(
  request: ClipRequest,
  progress: ClipProgress,
  failure: ClipError,
  deps: ClipJobDeps,
): Promise<Next> {
  const now = Date.now();
  if (failure.retryable && now < request.deadlineAt) {
    countCode(deps.stats.retries, failure.code);
    const wait = Math.min(growing(deps.retry, progress.retries, 2), request.deadlineAt - now);
    deps.log.warn(
      { code: failure.code, reason: failure.message, retryInMs: wait },
      'clip step failed; retrying',
    );
    return {
      wait,
      progress: {
        ...progress,
        retries: progress.retries + 1,
        retriesTotal: progress.retriesTotal + 1,
        lastError: { code: failure.code, reason: failure.message },
      },
    };
  }
  const reason = failure.retryable
    ? `${failure.message}; gave up at the deadline ${new Date(request.deadlineAt).toISOString()} after ${progress.retriesTotal + 1} tries`
    : failure.message;
  return { done: await failClip(request, { code: failure.code, reason }, deps) };
}

/** `firstMs × factor^n`, at most `maxMs`, ±20 % so that jobs failed together do not come back together. */
function growing(b: Backoff, n: number, factor: number): number {
  const ms = Math.min(b.maxMs, b.firstMs * factor ** Math.min(n, 40));
  return Math.round(ms * (0.8 + Math.random() * 0.4));
}
