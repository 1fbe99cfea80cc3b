/**
 * Secondary image recognition (issue 17): the vision event an alarm start names (its event id and
 * how many candidate frames the agent uploads), the per-kind recognition policy of the `devicehub`
 * configuration, the request the edge actor hands to the outbox (`vision.requested`, also the
 * recognition queue's job) and the verdict a worker sends back (`visionVerdict`). Pure: shared by
 * the agent, the decoders, the edge actor, the gateway's sink and the recognition workers.
 */
import { describe, isObject, isTime } from './checks.ts';
import { DecodeError } from './errors.ts';

/** The priority classes, highest first: a job's BullMQ priority is its class's index + 1. */
export const RECOGNITION_CLASSES = ['trapped', 'person_down', 'ebike', 'other'] as const;
export type RecognitionClass = (typeof RECOGNITION_CLASSES)[number];

/** What a vision event id looks like (it is part of object keys and job ids). */
export const VISION_EVENT_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** How many candidate frames one vision event may name. */
export const VISION_FRAMES = { min: 1, max: 4 } as const;

/** One thing the model found: a COCO label, its score, and its box as fractions of the frame. */
export interface Detection {
  readonly label: string;
  readonly score: number;
  /** [x, y, w, h], each 0..1 of the frame's width or height, from its top left corner. */
  readonly box: readonly [number, number, number, number];
}

/** How one alarm kind gets its second look. */
export interface RecognitionKindPolicy {
  readonly class: RecognitionClass;
  /** COCO labels that confirm the alarm, e.g. ['person'] or ['bicycle', 'motorcycle']. */
  readonly targets: readonly string[];
  /** A target at or above this score (0..1) confirms. */
  readonly confirmScore: number;
  /** 'always': forwarded at once, only annotated; 'confirmed': held until its verdict. */
  readonly forward: 'always' | 'confirmed';
  /** What a held alarm does when no verdict comes in time (timeout, shed, invalid). */
  readonly onTimeout: 'forward' | 'drop';
  /** How long the verdict may take after the request, ms. */
  readonly deadlineMs: number;
}

/** The `recognition` value of the `devicehub` configuration. */
export interface RecognitionPolicy {
  /** The model every job of this policy goes to, e.g. 'yolov8n-coco' (a queue per model). */
  readonly model: string;
  /** The kinds that get a second look, by alarm name. */
  readonly kinds: Readonly<Record<string, RecognitionKindPolicy>>;
  /** Waiting jobs a queue holds before the lowest class is shed. */
  readonly queueBound: number;
}

/** The policy when the configuration has none: trapped and person down annotated, e-bikes confirmed. */
export const DEFAULT_RECOGNITION_POLICY: RecognitionPolicy = {
  model: 'yolov8n-coco',
  queueBound: 500,
  kinds: {
    trapped: {
      class: 'trapped',
      targets: ['person'],
      confirmScore: 0.5,
      forward: 'always',
      onTimeout: 'forward',
      deadlineMs: 2000,
    },
    person_down: {
      class: 'person_down',
      targets: ['person'],
      confirmScore: 0.5,
      forward: 'always',
      onTimeout: 'forward',
      deadlineMs: 3000,
    },
    ebike: {
      class: 'ebike',
      targets: ['bicycle', 'motorcycle'],
      confirmScore: 0.5,
      forward: 'confirmed',
      onTimeout: 'forward',
      deadlineMs: 5000,
    },
  },
};

/** Bounds the configuration schema holds a policy to. */
export const RECOGNITION_POLICY_LIMITS = {
  deadlineMs: { min: 100, max: 600_000 },
  queueBound: { min: 1, max: 1_000_000 },
  maxKinds: 64,
  maxTargets: 80,
} as const;

/** Alarm kind names a policy may configure (as for clips). */
export const RECOGNITION_KIND_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
/** A model name: it becomes part of a queue name. */
export const RECOGNITION_MODEL_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
/** A COCO label (e.g. 'person', 'traffic light'). */
export const RECOGNITION_LABEL = /^[a-z][a-z ]{0,31}$/;
const LABEL = RECOGNITION_LABEL;

/** The class of an alarm: its kind's under `policy`, else the class of the same name, else 'other'. */
export function classOf(alarm: string, policy?: RecognitionPolicy): RecognitionClass {
  const configured = policy?.kinds[alarm]?.class;
  if (configured !== undefined) return configured;
  return (RECOGNITION_CLASSES as readonly string[]).includes(alarm) ? (alarm as RecognitionClass) : 'other';
}

/** A class's BullMQ priority: 1 (trapped, highest) .. 4 (other). */
export function priorityOf(cls: RecognitionClass): number {
  return RECOGNITION_CLASSES.indexOf(cls) + 1;
}

/** The event id and frame count an alarm start names (its data's `eventId`, `frames`). */
export interface VisionEventRef {
  readonly eventId: string;
  readonly frames: number;
}

/**
 * The vision event named by two wire fields, or undefined when neither is there; one that is there
 * but wrong (or only one of them) is INVALID_FIELD, naming the fields by their wire names.
 */
export function decodeVisionRef(
  eventId: unknown,
  frames: unknown,
  names: { readonly eventId: string; readonly frames: string },
): VisionEventRef | undefined {
  if (eventId === undefined && frames === undefined) return undefined;
  if (typeof eventId !== 'string' || !VISION_EVENT_ID.test(eventId))
    throw new DecodeError(
      'INVALID_FIELD',
      `${names.eventId} must match ${VISION_EVENT_ID}, got ${describe(eventId)}`,
    );
  if (!isFrameCount(frames))
    throw new DecodeError(
      'INVALID_FIELD',
      `${names.frames} must be an integer ${VISION_FRAMES.min}..${VISION_FRAMES.max}, got ${describe(frames)}`,
    );
  return { eventId, frames };
}

/** The vision event an alarm's canonical data names, or undefined (a legacy edge: no frames). */
export function visionRefOf(data: Readonly<Record<string, unknown>> | undefined): VisionEventRef | undefined {
  const eventId = data?.eventId;
  const frames = data?.frames;
  return typeof eventId === 'string' && VISION_EVENT_ID.test(eventId) && isFrameCount(frames)
    ? { eventId, frames }
    : undefined;
}

function isFrameCount(value: unknown): value is number {
  return (
    typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= VISION_FRAMES.min &&
    value <= VISION_FRAMES.max
  );
}

/** A second look to take: the outbox event `vision.requested` (with `type`), the queue job's data. */
export interface VisionRequest {
  readonly edgeId: string;
  readonly eventId: string;
  readonly alarm: string;
  /** The alarm's start (ms). */
  readonly since: number;
  readonly frames: number;
  readonly class: RecognitionClass;
  readonly model: string;
  /** When a verdict stops being useful (ms): a worker taking the job later answers 'timeout'. */
  readonly deadlineAt: number;
  readonly requestedAt: number;
}

export const VISION_VERDICTS = ['confirmed', 'dismissed', 'timeout', 'invalid', 'shed'] as const;
export type VisionVerdict = (typeof VISION_VERDICTS)[number];

/** What a worker (or the gateway's sink, for 'shed') sends the edge actor: method `visionVerdict`. */
export interface VisionVerdictPayload {
  readonly eventId: string;
  readonly alarm: string;
  readonly since: number;
  readonly verdict: VisionVerdict;
  readonly reason?: string;
  readonly model?: { readonly name: string; readonly version: string };
  readonly detections?: readonly Detection[];
  /** Index of the frame the verdict was made on. */
  readonly frame?: number;
  readonly queueMs?: number;
  readonly inferMs?: number;
}

/** Most detections a verdict carries (the worker keeps the best). */
export const MAX_VERDICT_DETECTIONS = 100;

/** Why `value` is not a recognition policy (the field named, under `recognition.`), or undefined. */
export function recognitionPolicyProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'recognition must be an object';
  const { model, kinds, queueBound } = value;
  if (typeof model !== 'string' || !RECOGNITION_MODEL_NAME.test(model))
    return `recognition.model must match ${RECOGNITION_MODEL_NAME}, got ${JSON.stringify(model)}`;
  const qb = RECOGNITION_POLICY_LIMITS.queueBound;
  if (!isIntBetween(queueBound, qb.min, qb.max))
    return `recognition.queueBound must be an integer ${qb.min}..${qb.max}, got ${JSON.stringify(queueBound)}`;
  if (!isObject(kinds)) return 'recognition.kinds must be an object';
  const names = Object.keys(kinds);
  if (names.length > RECOGNITION_POLICY_LIMITS.maxKinds)
    return `recognition.kinds has more than ${RECOGNITION_POLICY_LIMITS.maxKinds} kinds`;
  for (const name of names) {
    if (!RECOGNITION_KIND_NAME.test(name))
      return `recognition.kinds: kind name must match ${RECOGNITION_KIND_NAME}, got "${name}"`;
    const problem = kindProblem(kinds[name], `recognition.kinds.${name}`);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function kindProblem(kind: unknown, at: string): string | undefined {
  if (!isObject(kind)) return `${at} must be an object`;
  const { targets, confirmScore, forward, onTimeout, deadlineMs } = kind;
  if (!(RECOGNITION_CLASSES as readonly unknown[]).includes(kind.class))
    return `${at}.class must be one of ${RECOGNITION_CLASSES.join(', ')}, got ${JSON.stringify(kind.class)}`;
  if (
    !Array.isArray(targets) ||
    targets.length === 0 ||
    targets.length > RECOGNITION_POLICY_LIMITS.maxTargets ||
    !targets.every((t) => typeof t === 'string' && LABEL.test(t))
  )
    return `${at}.targets must be 1..${RECOGNITION_POLICY_LIMITS.maxTargets} labels matching ${LABEL}`;
  if (typeof confirmScore !== 'number' || !(confirmScore >= 0 && confirmScore <= 1))
    return `${at}.confirmScore must be a number 0..1, got ${JSON.stringify(confirmScore)}`;
  if (forward !== 'always' && forward !== 'confirmed')
    return `${at}.forward must be "always" or "confirmed", got ${JSON.stringify(forward)}`;
  if (onTimeout !== 'forward' && onTimeout !== 'drop')
    return `${at}.onTimeout must be "forward" or "drop", got ${JSON.stringify(onTimeout)}`;
  const d = RECOGNITION_POLICY_LIMITS.deadlineMs;
  if (!isIntBetween(deadlineMs, d.min, d.max))
    return `${at}.deadlineMs must be an integer ${d.min}..${d.max}, got ${JSON.stringify(deadlineMs)}`;
  return undefined;
}

/** Why `value` is not a vision request (a job's data, an outbox event's fields), or undefined. */
export function visionRequestProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'vision request must be an object';
  const { edgeId, eventId, alarm, since, frames, model, deadlineAt, requestedAt } = value;
  if (typeof edgeId !== 'string' || edgeId.length === 0 || edgeId.length > 128)
    return 'edgeId must be a string of 1..128 characters';
  if (typeof eventId !== 'string' || !VISION_EVENT_ID.test(eventId))
    return `eventId must match ${VISION_EVENT_ID}`;
  if (typeof alarm !== 'string' || !RECOGNITION_KIND_NAME.test(alarm))
    return `alarm must match ${RECOGNITION_KIND_NAME}`;
  if (!isTime(since)) return 'since must be a time (ms)';
  if (!isFrameCount(frames)) return `frames must be an integer ${VISION_FRAMES.min}..${VISION_FRAMES.max}`;
  if (!(RECOGNITION_CLASSES as readonly unknown[]).includes(value.class))
    return `class must be one of ${RECOGNITION_CLASSES.join(', ')}`;
  if (typeof model !== 'string' || !RECOGNITION_MODEL_NAME.test(model))
    return `model must match ${RECOGNITION_MODEL_NAME}`;
  if (!isTime(deadlineAt)) return 'deadlineAt must be a time (ms)';
  if (!isTime(requestedAt)) return 'requestedAt must be a time (ms)';
  return undefined;
}

/** Why `value` is not a verdict (the field named), or undefined when it is one. */
export function visionVerdictProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'vision verdict must be an object';
  const { eventId, alarm, since, verdict, reason, model, detections, frame, queueMs, inferMs } = value;
  if (typeof eventId !== 'string' || !VISION_EVENT_ID.test(eventId))
    return `eventId must match ${VISION_EVENT_ID}, got ${describe(eventId)}`;
  if (typeof alarm !== 'string' || !RECOGNITION_KIND_NAME.test(alarm))
    return `alarm must match ${RECOGNITION_KIND_NAME}, got ${describe(alarm)}`;
  if (!isTime(since)) return `since must be a time (ms), got ${describe(since)}`;
  if (!(VISION_VERDICTS as readonly unknown[]).includes(verdict))
    return `verdict must be one of ${VISION_VERDICTS.join(', ')}, got ${describe(verdict)}`;
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > 2000))
    return 'reason must be a string of at most 2000 characters';
  if (
    model !== undefined &&
    (!isObject(model) || !isShortString(model.name) || !isShortString(model.version))
  )
    return 'model must be { name, version } (strings of 1..128 characters)';
  if (detections !== undefined) {
    if (!Array.isArray(detections) || detections.length > MAX_VERDICT_DETECTIONS)
      return `detections must be an array of at most ${MAX_VERDICT_DETECTIONS}`;
    for (const [i, d] of detections.entries()) {
      const problem = detectionProblem(d);
      if (problem !== undefined) return `detections[${i}]: ${problem}`;
    }
  }
  if (frame !== undefined && !isIntBetween(frame, 0, VISION_FRAMES.max - 1))
    return `frame must be an integer 0..${VISION_FRAMES.max - 1}, got ${describe(frame)}`;
  for (const [field, v] of [
    ['queueMs', queueMs],
    ['inferMs', inferMs],
  ] as const)
    if (v !== undefined && !isTime(v)) return `${field} must be a non-negative number, got ${describe(v)}`;
  return undefined;
}

function detectionProblem(d: unknown): string | undefined {
  if (!isObject(d)) return 'must be { label, score, box }';
  if (typeof d.label !== 'string' || !LABEL.test(d.label)) return `label must match ${LABEL}`;
  if (!isFraction(d.score)) return 'score must be a number 0..1';
  const box = d.box;
  if (!Array.isArray(box) || box.length !== 4 || !box.every(isFraction))
    return 'box must be [x, y, w, h], each a number 0..1';
  return undefined;
}

const isFraction = (v: unknown): v is number => typeof v === 'number' && v >= 0 && v <= 1;
const isShortString = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 128;
const isIntBetween = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
