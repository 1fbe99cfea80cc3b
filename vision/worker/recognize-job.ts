/**
 * A recognition job's data: the `vision.requested` event the gateway's outbox sink queued
 * (edge/protocol/vision.ts `VisionRequest`, its `type` field kept or not), optionally the alarm
 * kind's policy (`kind`, put there by the sink so a worker needs no configuration of its own), and
 * what the worker saves with `job.updateData` while it waits for frames not uploaded yet — so the
 * run after the wait, on this worker or another, knows why it was delayed.
 */
import {
  DEFAULT_RECOGNITION_POLICY,
  type RecognitionKindPolicy,
  type VisionRequest,
  visionRequestProblem,
} from '../../edge/protocol/mod.ts';

export interface RecognizeProgress {
  /** Runs that found a frame missing and delayed the job. */
  readonly frameWaits: number;
  /** The frame indexes missing at the last look. */
  readonly missing: readonly number[];
}

export type RecognizeJobData = VisionRequest & {
  readonly type?: string;
  readonly kind?: RecognitionKindPolicy;
  readonly progress?: RecognizeProgress;
};

/** Job name of every recognition job (the sink's `queue.add('recognize', …)`). */
export const RECOGNIZE_JOB_NAME = 'recognize';

/** Why a job's data cannot be recognised (the request's own checks, and its `kind` if any), or undefined. */
export function recognizeJobProblem(data: unknown): string | undefined {
  const problem = visionRequestProblem(data);
  if (problem !== undefined) return problem;
  const kind = (data as { kind?: unknown }).kind;
  if (kind === undefined) return undefined;
  if (typeof kind !== 'object' || kind === null) return 'kind must be an object';
  const { targets, confirmScore } = kind as Partial<RecognitionKindPolicy>;
  if (!Array.isArray(targets) || targets.length === 0 || !targets.every((t) => typeof t === 'string'))
    return 'kind.targets must be a non-empty array of labels';
  if (typeof confirmScore !== 'number' || !(confirmScore >= 0 && confirmScore <= 1))
    return 'kind.confirmScore must be a number 0..1';
  return undefined;
}

/** Looks an alarm kind's policy up (in memory: a policy source's latest, or the default's). */
export type KindPolicyOf = (alarm: string) => RecognitionKindPolicy | undefined;

/** The default policy's kinds: what a worker uses when neither the job nor its source names one. */
export const defaultKindPolicyOf: KindPolicyOf = (alarm) => DEFAULT_RECOGNITION_POLICY.kinds[alarm];
