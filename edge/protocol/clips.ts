/**
 * Alarm clips (issue 16): the clip id an alarm's video is known by (also the Ezviz `fileId`), the
 * per-kind clip policy of the `devicehub` configuration, the request the edge actor hands to the
 * outbox when an alarm of a configured kind ends (or has lasted its longest clip), and the result
 * a clip worker sends back to the actor. Pure: shared by the edge actor, the gateway's sink and the
 * clip workers.
 */
import { createHash } from 'node:crypto';
import { describe, isObject, isTime } from './checks.ts';
import { DecodeError } from './errors.ts';

/**
 * The clip id of an alarm: 'c' + the first 31 hex characters of SHA-256 over edge, alarm and the
 * alarm's start — 32 characters [0-9a-f] after the 'c', the same for every replay or retry.
 */
export function clipIdOf(edgeId: string, alarm: string, sinceMs: number): string {
  return `c${createHash('sha256').update(`${edgeId}\n${alarm}\n${sinceMs}`).digest('hex').slice(0, 31)}`;
}

/** What a clip id looks like. */
export const CLIP_ID = /^c[0-9a-f]{31}$/;

/** How one alarm kind's clip is cut and kept. */
export interface ClipKindPolicy {
  /** Seconds of video before the alarm started. */
  readonly preRollSeconds: number;
  /** Seconds of video after the alarm ended (or was cut). */
  readonly postRollSeconds: number;
  /** The longest alarm a clip covers; one lasting longer is requested at this mark. */
  readonly maxSeconds: number;
  readonly retentionDays: number;
  /** How long after the window's end the worker keeps trying before the clip fails. */
  readonly deadlineMinutes: number;
}

/** The `clips` value of the `devicehub` configuration: the kinds that get a clip, by alarm name. */
export interface ClipPolicy {
  readonly kinds: Readonly<Record<string, ClipKindPolicy>>;
}

/** Each policy field's bounds (integers, inclusive); the configuration schema refuses others. */
export const CLIP_POLICY_LIMITS = {
  preRollSeconds: { min: 0, max: 300 },
  postRollSeconds: { min: 0, max: 300 },
  maxSeconds: { min: 5, max: 1800 },
  retentionDays: { min: 1, max: 3650 },
  deadlineMinutes: { min: 1, max: 1440 },
} as const satisfies Record<keyof ClipKindPolicy, { min: number; max: number }>;

/** Alarm kind names a policy may configure (the alarm names the edge actor takes). */
export const CLIP_KIND_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
export const MAX_CLIP_KINDS = 64;

/** The policy when the configuration has none: trapped passengers, doors open while moving, e-bikes. */
export const DEFAULT_CLIP_POLICY: ClipPolicy = {
  kinds: {
    trapped: {
      preRollSeconds: 30,
      postRollSeconds: 30,
      maxSeconds: 600,
      retentionDays: 180,
      deadlineMinutes: 120,
    },
    door_open_moving: {
      preRollSeconds: 15,
      postRollSeconds: 15,
      maxSeconds: 120,
      retentionDays: 90,
      deadlineMinutes: 120,
    },
    ebike: {
      preRollSeconds: 10,
      postRollSeconds: 20,
      maxSeconds: 120,
      retentionDays: 30,
      deadlineMinutes: 120,
    },
  },
};

/** An Ezviz camera: device serial and channel. */
export interface ClipCamera {
  readonly serial: string;
  readonly channel: number;
}

const CAMERA_SERIAL = /^[A-Za-z0-9]{1,32}$/;

/** A camera as an edge's birth or configuration names it: serial [A-Za-z0-9]{1,32}, channel 1..256. */
export function isClipCamera(value: unknown): value is ClipCamera {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { serial, channel } = value as Record<string, unknown>;
  return (
    typeof serial === 'string' &&
    CAMERA_SERIAL.test(serial) &&
    typeof channel === 'number' &&
    Number.isInteger(channel) &&
    channel >= 1 &&
    channel <= 256
  );
}

/**
 * The birth's `camera` from a device message's two fields (`serial`, `channel`: their names on the
 * wire), or {} when it names none; one that is there but not a camera is INVALID_FIELD.
 */
export function decodeCamera(
  serial: unknown,
  channel: unknown,
  names: { readonly serial: string; readonly channel: string },
): { camera?: ClipCamera } {
  if (serial === undefined && channel === undefined) return {};
  const camera = { serial, channel };
  if (!isClipCamera(camera))
    throw new DecodeError(
      'INVALID_FIELD',
      `${names.serial}/${names.channel} must be a camera serial [A-Za-z0-9]{1,32} and a channel 1..256, got ${describe(serial)}/${describe(channel)}`,
    );
  return { camera: { serial: camera.serial, channel: camera.channel } };
}

/** A clip to fetch: the outbox event `clip.requested` carries it, the clip queue's job is it. */
export interface ClipRequest {
  readonly clipId: string;
  readonly edgeId: string;
  readonly alarm: string;
  /** The alarm's start (ms). */
  readonly since: number;
  /** The alarm's end (ms); null: it lasted the longest clip and was cut there. */
  readonly end: number | null;
  /** The video to fetch (ms): since − pre-roll .. min(end, since + max) + post-roll. */
  readonly window: { readonly start: number; readonly end: number };
  /** Absent: the worker resolves it from the edge's configuration, else fails NO_CAMERA. */
  readonly camera?: ClipCamera;
  readonly retentionDays: number;
  /** When the worker gives up (ms): the window's end + deadlineMinutes. */
  readonly deadlineAt: number;
  readonly requestedAt: number;
}

/** The alarm a clip is planned for. */
export interface ClipAlarm {
  readonly edgeId: string;
  readonly alarm: string;
  /** The alarm's start (ms). */
  readonly since: number;
  /** Its end (ms), or null when it is cut at the kind's longest clip. */
  readonly end: number | null;
  readonly camera?: ClipCamera | undefined;
  /** The request's time (ms). */
  readonly now: number;
}

/** The request for an alarm's clip under its kind's policy. */
export function planClip(policy: ClipKindPolicy, alarm: ClipAlarm): ClipRequest {
  const { edgeId, since, end, camera, now } = alarm;
  const cut = since + policy.maxSeconds * 1000;
  const last = end === null ? cut : Math.min(Math.max(end, since), cut);
  const windowEnd = last + policy.postRollSeconds * 1000;
  return {
    clipId: clipIdOf(edgeId, alarm.alarm, since),
    edgeId,
    alarm: alarm.alarm,
    since,
    end,
    window: { start: since - policy.preRollSeconds * 1000, end: windowEnd },
    ...(camera === undefined ? {} : { camera: { serial: camera.serial, channel: camera.channel } }),
    retentionDays: policy.retentionDays,
    deadlineAt: windowEnd + policy.deadlineMinutes * 60_000,
    requestedAt: now,
  };
}

/** Why `value` is not a clip policy (the field named), or undefined when it is one. */
export function clipPolicyProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'clips must be an object';
  if (!isObject(value.kinds)) return 'clips.kinds must be an object';
  const names = Object.keys(value.kinds);
  if (names.length > MAX_CLIP_KINDS) return `clips.kinds has more than ${MAX_CLIP_KINDS} kinds`;
  for (const name of names) {
    if (!CLIP_KIND_NAME.test(name))
      return `clips.kinds: kind name must match ${CLIP_KIND_NAME}, got "${name}"`;
    const kind = value.kinds[name];
    if (!isObject(kind)) return `clips.kinds.${name} must be an object`;
    for (const [field, { min, max }] of Object.entries(CLIP_POLICY_LIMITS)) {
      const v = kind[field];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
        return `clips.kinds.${name}.${field} must be an integer ${min}..${max}, got ${JSON.stringify(v)}`;
    }
  }
  return undefined;
}

/** Why `value` is not a clip request (a job's data, an outbox event's fields), or undefined. */
export function clipRequestProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'clip request must be an object';
  const { clipId, edgeId, alarm, since, end, window, camera, retentionDays, deadlineAt, requestedAt } = value;
  if (typeof clipId !== 'string' || !CLIP_ID.test(clipId)) return `clipId must match ${CLIP_ID}`;
  if (typeof edgeId !== 'string' || edgeId.length === 0 || edgeId.length > 128)
    return 'edgeId must be a string of 1..128 characters';
  if (typeof alarm !== 'string' || !CLIP_KIND_NAME.test(alarm)) return `alarm must match ${CLIP_KIND_NAME}`;
  if (!isTime(since)) return 'since must be a time (ms)';
  if (end !== null && !isTime(end)) return 'end must be a time (ms) or null';
  if (!isObject(window) || !isTime(window.start) || !isTime(window.end) || window.end <= window.start)
    return 'window must be { start, end } (ms), start before end';
  if (camera !== undefined && !isClipCamera(camera)) return 'camera must be { serial, channel }';
  if (typeof retentionDays !== 'number' || !Number.isInteger(retentionDays) || retentionDays < 1)
    return 'retentionDays must be a positive integer';
  if (!isTime(deadlineAt)) return 'deadlineAt must be a time (ms)';
  if (!isTime(requestedAt)) return 'requestedAt must be a time (ms)';
  return undefined;
}

/** What a clip worker sends the edge actor (method `clipResult`) once a clip is stored or failed. */
export interface ClipResultPayload {
  readonly clipId: string;
  readonly alarm: string;
  readonly since: number;
  readonly status: 'stored' | 'failed';
  readonly reason?: string;
  readonly code?: string;
  readonly bytes?: number;
  readonly sha256?: string;
  readonly durationMs?: number;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** Why `value` is not a clip result (the field named), or undefined when it is one. */
export function clipResultProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'clip result must be an object';
  const { clipId, alarm, since, status, reason, code, bytes, sha256, durationMs } = value;
  if (typeof clipId !== 'string' || !CLIP_ID.test(clipId)) return `clipId must match ${CLIP_ID}`;
  if (typeof alarm !== 'string' || !CLIP_KIND_NAME.test(alarm)) return `alarm must match ${CLIP_KIND_NAME}`;
  if (typeof since !== 'number' || !Number.isFinite(since)) return 'since must be a number (ms)';
  if (status !== 'stored' && status !== 'failed') return 'status must be "stored" or "failed"';
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > 2000))
    return 'reason must be a string of at most 2000 characters';
  if (code !== undefined && (typeof code !== 'string' || code.length === 0 || code.length > 64))
    return 'code must be a string of 1..64 characters';
  if (status === 'failed') return reason === undefined ? 'a failed clip needs a reason' : undefined;
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes <= 0)
    return 'a stored clip needs bytes (a positive integer)';
  if (typeof sha256 !== 'string' || !SHA256.test(sha256)) return 'a stored clip needs sha256 (64 hex digits)';
  if (typeof durationMs !== 'number' || !Number.isFinite(durationMs) || durationMs <= 0)
    return 'a stored clip needs durationMs (a positive number)';
  return undefined;
}
