/**
 * The gateway's tables for drizzle-orm (the SQL that creates them is `migrations/*.sql`).
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  doublePrecision,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

const timestamptz = (name: string) => timestamp(name, { withTimezone: true });

export const edges = pgTable('edges', {
  id: text('id').primaryKey(),
  groupId: text('group_id'),
  labels: jsonb('labels').$type<Record<string, string>>().notNull().default({}),
  secretHash: text('secret_hash').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  /** Bumped by every rotation: part of the edge's configuration (migrations/0005). */
  credentialsVersion: integer('credentials_version').notNull().default(0),
  /** The secret before the last rotation, accepted until previousSecretUntil or the edge's confirmation. */
  previousSecretHash: text('previous_secret_hash'),
  previousSecretUntil: timestamptz('previous_secret_until'),
  /** The new secret, sealed, until the edge confirms it (gateway/credentials/sealing.ts). */
  pendingSecret: text('pending_secret'),
  /** When the row last changed, by the database's clock (migrations/0015): the fleet view's fingerprint. */
  updatedAt: timestamptz('updated_at')
    .notNull()
    .defaultNow()
    .$onUpdate(() => sql`clock_timestamp()`),
});

export const REVOKE_REASONS = ['keyCompromise', 'superseded', 'cessationOfOperation'] as const;
export type RevokeReason = (typeof REVOKE_REASONS)[number];

/** Certificates the fleet CA issued to edges; kept after deregistration for the CRL. */
export const edgeCertificates = pgTable(
  'edge_certificates',
  {
    edgeId: text('edge_id').notNull(),
    serial: text('serial').notNull(),
    fingerprintSha256: text('fingerprint_sha256').notNull(),
    notBefore: timestamptz('not_before').notNull(),
    notAfter: timestamptz('not_after').notNull(),
    issuedAt: timestamptz('issued_at').notNull().defaultNow(),
    revokedAt: timestamptz('revoked_at'),
    revokeReason: text('revoke_reason').$type<RevokeReason>(),
  },
  (t) => [primaryKey({ columns: [t.edgeId, t.serial] })],
);

export const API_SCOPES = ['service', 'operator', 'admin'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export const apiKeys = pgTable('api_keys', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  scope: text('scope').$type<ApiScope>().notNull(),
  keyHash: text('key_hash').notNull().unique(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  /** The key stops working then (migrations/0004). */
  expiresAt: timestamptz('expires_at').notNull(),
  rotatedAt: timestamptz('rotated_at'),
  /** The key before the last rotation, accepted until previousExpiresAt (the grace period). */
  previousKeyHash: text('previous_key_hash').unique(),
  previousExpiresAt: timestamptz('previous_expires_at'),
});

export const CONFIG_KINDS = ['edge', 'devicehub', 'screen'] as const;
export type ConfigKind = (typeof CONFIG_KINDS)[number];

export const configDocuments = pgTable(
  'config_documents',
  {
    kind: text('kind').$type<ConfigKind>().notNull(),
    scope: text('scope').notNull(),
    version: integer('version').notNull(),
    body: jsonb('body').$type<Record<string, unknown>>().notNull(),
    updatedBy: text('updated_by').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.scope] })],
);

export const configVersions = pgTable(
  'config_versions',
  {
    kind: text('kind').$type<ConfigKind>().notNull(),
    scope: text('scope').notNull(),
    version: integer('version').notNull(),
    body: jsonb('body').$type<Record<string, unknown>>().notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.scope, t.version] })],
);

export const brokers = pgTable('brokers', {
  id: text('id').primaryKey(),
  transport: text('transport').$type<'mqtt' | 'kafka'>().notNull(),
  address: text('address').notNull(),
  weight: integer('weight').notNull().default(1),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const auditLog = pgTable('audit_log', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  actor: text('actor').notNull(),
  action: text('action').notNull(),
  target: text('target').notNull(),
  details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
});

export const TUNNEL_STATES = ['requested', 'open', 'closed', 'expired', 'failed'] as const;

/** Keyed (edge_id, id): Citus-ready (migrations/0014, decision 045); `tunnels_id` finds one by id. */
export const tunnels = pgTable(
  'tunnels',
  {
    id: text('id').notNull(),
    edgeId: text('edge_id').notNull(),
    services: jsonb('services')
      .$type<{ name: string; remotePort: number | null; host?: string }[]>()
      .notNull(),
    state: text('state').$type<(typeof TUNNEL_STATES)[number]>().notNull(),
    reason: text('reason'),
    requestedBy: text('requested_by').notNull(),
    requestedAt: timestamptz('requested_at').notNull().defaultNow(),
    expiresAt: timestamptz('expires_at').notNull(),
    openedAt: timestamptz('opened_at'),
    endedAt: timestamptz('ended_at'),
  },
  (t) => [primaryKey({ columns: [t.edgeId, t.id] })],
);

export const ARTIFACT_KINDS = ['edge-package', 'screen-bundle', 'model'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

/** Artifacts of the updates; the bytes are the object store's `artifacts/sha256/<sha256>` (migrations/0006). */
export const artifacts = pgTable('artifacts', {
  sha256: text('sha256').primaryKey(),
  kind: text('kind').$type<ArtifactKind>().notNull(),
  name: text('name').notNull(),
  version: text('version').notNull(),
  hardware: jsonb('hardware').$type<string[]>().notNull().default([]),
  size: bigint('size', { mode: 'number' }).notNull(),
  fileName: text('file_name').notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
});

/** Partitioned by month on recordedAt (see migrations/0002 and alarm-partitions.ts). */
export const alarms = pgTable(
  'alarms',
  {
    eventId: text('event_id').notNull(),
    recordedAt: timestamptz('recorded_at').notNull(),
    edgeId: text('edge_id').notNull(),
    alarm: text('alarm').notNull(),
    phase: text('phase').$type<'start' | 'end'>().notNull(),
    at: timestamptz('at').notNull(),
    since: timestamptz('since'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
  },
  // Citus-ready: the distribution column first (migrations/0012, decision 045).
  (t) => [primaryKey({ columns: [t.edgeId, t.recordedAt, t.eventId] })],
);

/** Keyed (edge_id, id) like tunnels (migrations/0014). */
export const terminalSessions = pgTable(
  'terminal_sessions',
  {
    id: text('id').notNull(),
    tunnelId: text('tunnel_id').notNull(),
    edgeId: text('edge_id').notNull(),
    actor: text('actor').notNull(),
    startedAt: timestamptz('started_at').notNull().defaultNow(),
    endedAt: timestamptz('ended_at'),
    bytesIn: bigint('bytes_in', { mode: 'number' }).notNull().default(0),
    bytesOut: bigint('bytes_out', { mode: 'number' }).notNull().default(0),
    endReason: text('end_reason'),
  },
  (t) => [primaryKey({ columns: [t.edgeId, t.id] })],
);

/** Every signed version of each TUF top-level role, the exact bytes served (migrations/0007). */
export const tufMetadata = pgTable(
  'tuf_metadata',
  {
    role: text('role').$type<'root' | 'targets' | 'snapshot' | 'timestamp'>().notNull(),
    version: integer('version').notNull(),
    body: text('body').notNull(),
    expiresAt: timestamptz('expires_at').notNull(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.role, t.version] })],
);

/** The one row every TUF signing locks (`for update`): versions are assigned one at a time. */
export const tufSigning = pgTable('tuf_signing', {
  id: smallint('id').primaryKey(),
});

/** Rollouts as operators asked for them; their live state is the actor's (migrations/0008). */
export const rollouts = pgTable('rollouts', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  status: text('status').notNull().default('running'),
  /** The fleet query of the dynamic group (gateway/fleet-search). */
  filter: text('filter').notNull(),
  /** The request as accepted (targets by name and version). */
  request: jsonb('request').$type<Record<string, unknown>>().notNull(),
  /** The RolloutSpec sent to the actor. */
  spec: jsonb('spec').$type<Record<string, unknown>>().notNull(),
  configKind: text('config_kind').$type<ConfigKind>(),
  configScope: text('config_scope'),
  configVersion: integer('config_version'),
  /** What edges not admitted yet are served instead of configVersion. */
  configBaseVersion: integer('config_base_version'),
  members: integer('members').notNull().default(0),
  createdBy: text('created_by').notNull(),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
  updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  finishedAt: timestamptz('finished_at'),
});

/** A rollout's members as the gateway sent them (create, join). */
export const rolloutMembers = pgTable(
  'rollout_members',
  {
    rolloutId: text('rollout_id').notNull(),
    edgeId: text('edge_id').notNull(),
    wave: integer('wave'),
    joinedAt: timestamptz('joined_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.rolloutId, t.edgeId] })],
);

export const CLIP_STATUSES = [
  'queued',
  'saving',
  'waiting',
  'downloading',
  'stored',
  'failed',
  'deleted',
] as const;
export type ClipStatus = (typeof CLIP_STATUSES)[number];

/**
 * Alarm clips by clip id, from the request to stored/failed/deleted (migrations/0009); monthly
 * partitions on requestedAt, keyed (edgeId, requestedAt, id) (migrations/0012).
 */
export const clips = pgTable(
  'clips',
  {
    id: text('id').notNull(),
    edgeId: text('edge_id').notNull(),
    alarm: text('alarm').notNull(),
    alarmSince: timestamptz('alarm_since').notNull(),
    /** Null: the alarm lasted the kind's longest clip and was cut there. */
    alarmEnd: timestamptz('alarm_end'),
    cameraSerial: text('camera_serial'),
    cameraChannel: integer('camera_channel'),
    windowStart: timestamptz('window_start').notNull(),
    windowEnd: timestamptz('window_end').notNull(),
    status: text('status').$type<ClipStatus>().notNull(),
    code: text('code'),
    reason: text('reason'),
    attempts: integer('attempts').notNull().default(0),
    ezvizTaskId: text('ezviz_task_id'),
    videoKey: text('video_key'),
    posterKey: text('poster_key'),
    bytes: bigint('bytes', { mode: 'number' }),
    sha256: text('sha256'),
    durationMs: integer('duration_ms'),
    requestedAt: timestamptz('requested_at').notNull(),
    storedAt: timestamptz('stored_at'),
    retentionDays: integer('retention_days').notNull(),
    expiresAt: timestamptz('expires_at'),
    worker: text('worker'),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.edgeId, t.requestedAt, t.id] })],
);

export const ALERT_OPS = ['>', '<', '>=', '<='] as const;
export type AlertOp = (typeof ALERT_OPS)[number];
export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** Operator alert rules, rendered as the Prometheus rule group `devicehub-operator` (migrations/0011). */
export const alertRules = pgTable('alert_rules', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  name: text('name').notNull().unique(),
  metric: text('metric').notNull(),
  op: text('op').$type<AlertOp>().notNull(),
  threshold: doublePrecision('threshold').notNull(),
  forSeconds: integer('for_seconds').notNull(),
  severity: text('severity').$type<AlertSeverity>().notNull(),
  summary: text('summary').notNull(),
  labels: jsonb('labels').$type<Record<string, string>>().notNull().default({}),
  updatedAt: timestamptz('updated_at').notNull().defaultNow(),
});
