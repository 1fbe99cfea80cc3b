/**
 * What each configuration kind's documents may hold (`edge` with its camera, `devicehub` with its
 * CDN pool, alarm-clip and recognition policies, `screen`), and `parseDocument`, which checks a document against
 * its kind's schema.
 */
import { z } from '@hono/zod-openapi';
import {
  CLIP_KIND_NAME,
  CLIP_POLICY_LIMITS,
  LOG_LINE_LEVELS,
  MAX_CLIP_KINDS,
  RECOGNITION_CLASSES,
  RECOGNITION_KIND_NAME,
  RECOGNITION_LABEL,
  RECOGNITION_MODEL_NAME,
  RECOGNITION_POLICY_LIMITS,
} from '../../edge/protocol/mod.ts';
import type { ConfigKind } from '../db/schema.ts';
import { ApiError } from '../errors.ts';
import { ID_PATTERN, jsonObject, safeRecord, safeString } from './schemas.ts';

const Broker = z.discriminatedUnion('transport', [
  z.object({ transport: z.literal('mqtt'), url: safeString.max(1024).regex(/^mqtts?:\/\/.+/) }),
  z.object({
    transport: z.literal('kafka'),
    brokers: z.array(safeString.min(3).max(1024)).min(1).max(64),
    // SASL_SSL: the agent logs in as its id with its secret (SCRAM-SHA-512), TLS against its CA.
    security: z.literal('sasl_ssl').optional(),
  }),
]);

const HttpUrl = safeString.max(1024).regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'an http(s) URL');

/** The CDN pool (docs/decisions/024-cdn.md): caches ranked per edge by weighted rendezvous. */
const CdnPool = z
  .object({
    mirrors: z
      .array(
        z
          .object({
            id: safeString.regex(ID_PATTERN, 'an id: 1–128 characters of [A-Za-z0-9_.:-]'),
            url: HttpUrl,
            weight: z.number().min(0).max(1_000_000),
          })
          .strict(),
      )
      .max(64)
      .refine((m) => new Set(m.map((x) => x.id)).size === m.length, 'mirror ids must be unique'),
    metadataUrl: HttpUrl.optional(),
  })
  .strict();

const bounded = ({ min, max }: { min: number; max: number }) => z.number().int().min(min).max(max);

/** The alarm-clip policy (edge/protocol/clips.ts): per alarm kind, the bounds of CLIP_POLICY_LIMITS. */
const ClipPolicy = z
  .object({
    kinds: z
      .record(
        z.string().regex(CLIP_KIND_NAME, `an alarm kind: ${CLIP_KIND_NAME}`),
        z
          .object({
            preRollSeconds: bounded(CLIP_POLICY_LIMITS.preRollSeconds),
            postRollSeconds: bounded(CLIP_POLICY_LIMITS.postRollSeconds),
            maxSeconds: bounded(CLIP_POLICY_LIMITS.maxSeconds),
            retentionDays: bounded(CLIP_POLICY_LIMITS.retentionDays),
            deadlineMinutes: bounded(CLIP_POLICY_LIMITS.deadlineMinutes),
          })
          .strict(),
      )
      .refine((kinds) => Object.keys(kinds).length <= MAX_CLIP_KINDS, `at most ${MAX_CLIP_KINDS} kinds`),
  })
  .strict();

/** The recognition policy (edge/protocol/vision.ts): the model, the queue's bound, per alarm kind. */
const RecognitionPolicy = z
  .object({
    model: z.string().regex(RECOGNITION_MODEL_NAME, `a model name: ${RECOGNITION_MODEL_NAME}`),
    queueBound: bounded(RECOGNITION_POLICY_LIMITS.queueBound),
    kinds: z
      .record(
        z.string().regex(RECOGNITION_KIND_NAME, `an alarm kind: ${RECOGNITION_KIND_NAME}`),
        z
          .object({
            class: z.enum(RECOGNITION_CLASSES),
            targets: z
              .array(z.string().regex(RECOGNITION_LABEL, `a COCO label: ${RECOGNITION_LABEL}`))
              .min(1)
              .max(RECOGNITION_POLICY_LIMITS.maxTargets),
            confirmScore: z.number().min(0).max(1),
            forward: z.enum(['always', 'confirmed']),
            onTimeout: z.enum(['forward', 'drop']),
            deadlineMs: bounded(RECOGNITION_POLICY_LIMITS.deadlineMs),
          })
          .strict(),
      )
      .refine(
        (kinds) => Object.keys(kinds).length <= RECOGNITION_POLICY_LIMITS.maxKinds,
        `at most ${RECOGNITION_POLICY_LIMITS.maxKinds} kinds`,
      ),
  })
  .strict();

/** The Ezviz camera filming the car: device serial and channel (edge/protocol's isClipCamera). */
const Camera = z
  .object({
    serial: z.string().regex(/^[A-Za-z0-9]{1,32}$/, 'an Ezviz device serial: 1–32 of [A-Za-z0-9]'),
    channel: z.number().int().min(1).max(256),
  })
  .strict();

/**
 * An edge's log shipping (docs/decisions/038): the level it ships from, the files it tails (an
 * absolute path and the source its lines are named by), its budget, and a temporary level
 * (`override`, until an ISO time; `POST /v1/edges/{id}/log-level` writes it). Every field is
 * optional: scopes merge key by key (a group names the files, the edge's own document the override).
 */
export const EdgeLogs = z
  .object({
    level: z.enum(LOG_LINE_LEVELS).optional(),
    files: z
      .array(
        z
          .object({
            path: safeString.max(1024).regex(/^\/(?!.*(^|\/)\.\.(\/|$)).+$/, 'an absolute path without ..'),
            source: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a source: 1–64 of [A-Za-z0-9_.-]'),
          })
          .strict(),
      )
      .max(16)
      .optional(),
    linesPerSecond: z.number().min(0.1).max(1000).optional(),
    bytesPerDay: z
      .number()
      .int()
      .min(1024)
      .max(2 ** 30)
      .optional(),
    override: z
      .object({ level: z.enum(LOG_LINE_LEVELS), until: z.string().datetime({ offset: true }) })
      .strict()
      .optional(),
  })
  .strict();

/** Each checked part of a devicehub document: the CDN pool, the alarm-clip and recognition policies. */
const DEVICEHUB_PARTS = { cdn: CdnPool, clips: ClipPolicy, recognition: RecognitionPolicy } as const;

/** A devicehub document: any JSON object; its `cdn`, `clips` and `recognition`, when there, are checked. */
const DevicehubBody = jsonObject.superRefine((doc, ctx) => {
  for (const [field, schema] of Object.entries(DEVICEHUB_PARTS)) {
    if (doc[field] === undefined) continue;
    const parsed = schema.safeParse(doc[field]);
    for (const issue of parsed.success ? [] : parsed.error.issues)
      ctx.addIssue({ code: 'custom', message: issue.message, path: [field, ...issue.path] });
  }
});

/** What each kind's documents may hold (a document is a partial: scopes merge). */
const BODY: Record<ConfigKind, z.ZodType<Record<string, unknown>>> = {
  edge: z
    .object({
      broker: Broker.optional(),
      snapshotSeconds: z.number().int().min(10).max(3600).optional(),
      healthSeconds: z.number().int().min(10).max(86_400).optional(),
      pollSeconds: z.number().int().min(5).max(3600).optional(),
      modules: safeRecord(jsonObject).optional(),
      // The camera its alarm clips are fetched from (overrides the one its birth names).
      camera: Camera.optional(),
      logs: EdgeLogs.optional(),
      // The CDN mirrors (best first) and the TUF metadata; none: the devicehub `cdn` pool ranks them.
      updates: z
        .object({ mirrors: z.array(HttpUrl).max(64), metadataUrl: HttpUrl.optional() })
        .strict()
        .optional(),
    })
    .strict(),
  devicehub: DevicehubBody,
  screen: jsonObject,
};

/** The document checked against its kind's schema; INVALID_REQUEST naming the first bad field. */
export function parseDocument(kind: ConfigKind, body: unknown): Record<string, unknown> {
  const parsed = BODY[kind].safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  const first = issues[0];
  throw new ApiError(
    'INVALID_REQUEST',
    `Not a valid ${kind} configuration${first ? `: ${first.path || 'body'}: ${first.message}` : ''}`,
    issues,
  );
}
