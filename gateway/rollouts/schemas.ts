/**
 * The rollout API's shapes (and their OpenAPI components): the request an admin sends, and a
 * rollout as the API shows it — its definition with the live state its actor checkpointed (waves
 * with their progress, the health comparison's numbers, the counts).
 */
import { z } from '@hono/zod-openapi';
import { ROLLOUT_ID } from '../../edge/rollout/mod.ts';
import { CONFIG_KINDS } from '../db/schema.ts';
import { MAX_QUERY_LENGTH } from '../fleet-search/mod.ts';
import { jsonObject, safeString } from '../routes/schemas.ts';

const Name = safeString
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:+@-]+$/, '1–128 characters of [A-Za-z0-9_.:+@-]');
const HHMM = safeString.regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24 hours');
const Seconds = (max: number) => z.number().int().min(0).max(max);

const PackageRef = z
  .object({
    name: Name,
    version: Name,
    kind: z.enum(['edge-package', 'screen-bundle', 'model']).optional(),
    // Without the artifact catalog: the artifact itself (its TUF target path is <kind>/<name>/<version>/<fileName>).
    sha256: safeString.regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits').optional(),
    length: z.number().int().min(0).optional(),
    fileName: Name.optional(),
  })
  .openapi('RolloutPackage', {
    description: 'An artifact by name and version (the catalog gives the rest), or given in full',
  });

export const RolloutTargetRequest = z
  .union([
    z.object({ packages: z.array(PackageRef).min(1).max(16) }).strict(),
    z
      .object({
        config: z
          .object({
            kind: z.enum(CONFIG_KINDS).default('edge'),
            scope: safeString.regex(/^(global|group:[A-Za-z0-9_.:-]{1,128})$/, '"global" or "group:<id>"'),
            version: z.number().int().min(2).optional().openapi({
              description: 'The current version, written before (edges that read it since have it already)',
            }),
            body: jsonObject.optional().openapi({
              description: 'A new version, written by the rollout once its gate holds: the safe way',
            }),
          })
          .strict()
          .refine((c) => c.version === undefined || c.body === undefined, 'give version or body, not both'),
      })
      .strict(),
  ])
  .openapi('RolloutTargetRequest');

const Wave = z
  .object({
    name: safeString.min(1).max(64),
    percent: z
      .number()
      .gt(0)
      .max(100)
      .optional()
      .openapi({ description: 'Cumulative percent of the members' }),
    buildings: z.array(Name).min(1).max(1000).optional(),
    successPercent: z.number().min(0).max(100).default(95),
    holdSeconds: Seconds(7 * 86_400).default(0),
  })
  .strict()
  .refine((w) => w.percent !== undefined || w.buildings !== undefined, 'a wave needs percent or buildings');

export const NewRollout = z
  .object({
    id: safeString.regex(ROLLOUT_ID, '1–40 characters of [A-Za-z0-9_.-]').optional(),
    name: safeString.min(1).max(200),
    filter: safeString.max(MAX_QUERY_LENGTH).default('').openapi({
      description: 'The dynamic group: a fleet query (GET /v1/edges?q=)',
      example: 'label.building=B12',
    }),
    target: RolloutTargetRequest,
    waves: z.array(Wave).min(1).max(20),
    errorThreshold: z
      .object({
        count: z.number().int().min(1).optional(),
        percent: z.number().gt(0).max(100).optional(),
        minFinished: z.number().int().min(1).optional(),
      })
      .strict()
      .optional(),
    health: z
      .object({
        enabled: z.boolean().optional(),
        alpha: z.number().gt(0).lt(0.5).optional(),
        minEvents: z.number().int().min(1).optional(),
        minRatio: z.number().min(1).optional(),
        events: z
          .array(z.enum(['alarm', 'reconnect', 'restart', 'offline']))
          .min(1)
          .optional(),
      })
      .strict()
      .optional(),
    ratePerMinute: z.number().int().min(1).max(100_000).optional(),
    maintenanceWindows: z
      .array(
        z
          .object({ days: z.array(z.number().int().min(0).max(6)).max(7).optional(), start: HHMM, end: HHMM })
          .strict(),
      )
      .max(20)
      .optional(),
    edgeTimeoutSeconds: Seconds(7 * 86_400)
      .min(1)
      .optional(),
    retries: z.number().int().min(0).max(10).optional(),
    spreadSeconds: Seconds(86_400).optional(),
    healthDeadlineSeconds: Seconds(86_400).min(1).optional(),
    /** How often the rollout looks at its edges, gates and health (default 2 s). */
    checkEverySeconds: z.number().min(0.05).max(60).optional(),
  })
  .strict()
  .openapi('NewRollout');
export type NewRolloutBody = z.infer<typeof NewRollout>;

const Counts = z.object({
  members: z.number().int(),
  pending: z.number().int(),
  inFlight: z.number().int(),
  healthy: z.number().int(),
  failed: z.number().int(),
  reverted: z.number().int(),
});

const HealthSide = z.object({
  edges: z.number().int().openapi({ description: 'Edges on this side now' }),
  events: z.number().int().openapi({ description: 'Alarms, reconnects, restarts and offlines counted' }),
  edgeHours: z.number().openapi({ description: 'Exposure: edge-hours watched' }),
  rate: z.number().nullable().openapi({ description: 'Events per edge-hour' }),
});

export const RolloutSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z
      .string()
      .openapi({ description: 'running, paused, completed, aborted, rolling_back, rolled_back' }),
    reason: z.string().nullable().openapi({ description: 'Why it paused or stopped, when it did' }),
    filter: z.string(),
    target: z.unknown(),
    createdBy: z.string(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
    members: z.number().int(),
    currentWave: z.number().int().nullable(),
    counts: Counts,
    waves: z.array(
      Counts.extend({
        index: z.number().int(),
        name: z.string(),
        state: z.string().openapi({ description: 'waiting, running, holding, passed, failed' }),
        successPercent: z.number(),
        holdSeconds: z.number(),
        percent: z.number().nullable(),
        buildings: z.array(z.string()).nullable(),
      }),
    ),
    health: z
      .object({
        updated: HealthSide,
        notUpdated: HealthSide,
        ratio: z
          .number()
          .nullable()
          .openapi({ description: 'Rate ratio updated / not updated at the last test' }),
        pValue: z
          .number()
          .nullable()
          .openapi({ description: 'One-sided exact conditional test, at the last test' }),
        alpha: z.number(),
        significant: z.boolean().openapi({ description: 'Whether the last test paused the rollout' }),
      })
      .openapi({ description: 'Updated edges against members not yet updated (events per edge-hour)' }),
    live: z.boolean().openapi({ description: 'Whether the actor has checkpointed its state yet' }),
  })
  .openapi('Rollout');
export type RolloutView = z.infer<typeof RolloutSchema>;

export const RolloutIdParam = z.object({
  id: safeString
    .regex(ROLLOUT_ID, 'a rollout id')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'r-2026-11-elenet' }),
});

export const RolloutAction = z
  .object({ reason: safeString.max(500).optional() })
  .strict()
  .openapi('RolloutAction');
