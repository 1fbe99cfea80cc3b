/**
 * The state of an edge's actor: its device shadow, open alarms, sequence tracking, recent
 * commands and tunnels. The gateway reads it (fleet view, `GET /v1/edges/{id}`).
 */
import type { EdgeTransport, TelemetryKind, TunnelRecord } from '../protocol/mod.ts';

export interface CommandRecord {
  readonly type: string;
  readonly status: 'sent' | 'succeeded' | 'failed';
  readonly deadline: number;
  readonly at: number;
  readonly result?: unknown;
  readonly error?: string;
}

/** Commands kept in an edge's state (oldest finished ones go first). */
export const MAX_COMMANDS = 50;

export interface OpenAlarm {
  readonly since: number;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface EdgeState {
  readonly online: boolean;
  readonly firstSeen: number | null;
  readonly lastSeen: number | null;
  /** Last values per telemetry kind, merged field by field. */
  readonly shadow: Readonly<Partial<Record<TelemetryKind, Readonly<Record<string, unknown>>>>>;
  /** Device timestamp of the last update per kind. */
  readonly updatedAt: Readonly<Partial<Record<TelemetryKind, number>>>;
  readonly openAlarms: Readonly<Record<string, OpenAlarm>>;
  readonly alarmsRaised: number;
  readonly seq: {
    readonly boot: string;
    readonly last: number;
    /** Bit k set: message `last - 1 - k` was received (the reorder window). */
    readonly window: number;
    readonly received: number;
    /** Numbers skipped and not (yet) arrived. */
    readonly gaps: number;
    readonly duplicates: number;
  };
  /** When the offline timer is due (ms). */
  readonly offlineDue: number;
  /** Recent commands by id. */
  readonly commands?: Readonly<Record<string, CommandRecord>>;
  /** The transport the edge last spoke over (commands go back over it); unknown before. */
  readonly transport?: EdgeTransport;
  /** This edge's silence before it counts as offline, when its birth said (else the default). */
  readonly offlineAfterMs?: number;
  /** Remote-access tunnels by id: the active ones and the newest finished (tunnels.ts). */
  readonly tunnels?: Readonly<Record<string, TunnelRecord>>;
}

/** A plain object (not null, not an array): how the handlers check a payload and its fields. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
