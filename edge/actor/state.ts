/**
 * The state of an edge's actor: its device shadow, open alarms, sequence tracking, recent
 * commands and tunnels. The gateway reads it (fleet view, `GET /v1/edges/{id}`).
 */
import type {
  Detection,
  EdgeTransport,
  RecognitionClass,
  RecognitionKindPolicy,
  TelemetryKind,
  TunnelRecord,
  UpdateState,
  UpdateTarget,
  VisionVerdict,
} from '../protocol/mod.ts';

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
  /** Updates: the rollout's assignment, enrolments, installed versions and history (updates.ts). */
  readonly updates?: EdgeUpdates;
  /** Alarm clips: the newest requested and their results, the open alarms a clip is cut for (clips.ts). */
  readonly clips?: EdgeClips;
  /** Second looks: the newest requests and verdicts, the alarms held for theirs (vision.ts). */
  readonly vision?: EdgeVision;
}

/** A second look this edge's actor requested, and its verdict once it came. */
export interface VisionRecord {
  readonly eventId: string;
  readonly alarm: string;
  /** The alarm's start (ms, the edge's clock). */
  readonly since: number;
  readonly class: RecognitionClass;
  readonly frames: number;
  readonly requestedAt: number;
  readonly status: 'requested' | VisionVerdict;
  /** The alarm: forwarded at once (only annotated), held for the verdict, then released or dropped. */
  readonly outcome: 'forwarded' | 'held' | 'released' | 'dropped';
  readonly reason?: string;
  readonly model?: { readonly name: string; readonly version: string };
  /** The best MAX_KEPT_DETECTIONS of the verdict's. */
  readonly detections?: readonly Detection[];
  /** The index of the frame the verdict was made on. */
  readonly frame?: number;
  readonly queueMs?: number;
  readonly inferMs?: number;
  /** When the request or the verdict was recorded (ms, node clock). */
  readonly at: number;
}

/** Vision records kept per edge (the newest), and detections kept per record. */
export const MAX_VERDICTS = 20;
export const MAX_KEPT_DETECTIONS = 10;

/** A request without its verdict yet: the kind's policy as it was, the alarm events held. */
export interface PendingVision {
  readonly alarm: string;
  readonly since: number;
  /** When the actor stops waiting and applies the verdict 'timeout' itself (ms, node clock). */
  readonly due: number;
  readonly policy: Pick<RecognitionKindPolicy, 'targets' | 'confirmScore' | 'forward' | 'onTimeout'>;
  /** The outbox events held until the verdict (`forward: 'confirmed'`): alarm.start, then its end. */
  readonly held?: readonly Readonly<Record<string, unknown>>[];
}

export interface EdgeVision {
  /** Newest last, at most MAX_VERDICTS. */
  readonly recent: readonly VisionRecord[];
  /** By event id. */
  readonly pending?: Readonly<Record<string, PendingVision>>;
  /** Open alarms whose verdict dropped them (name → start): their end is not forwarded either. */
  readonly dropped?: Readonly<Record<string, number>>;
  /** Alarm starts of recognised kinds that named no frames (legacy edges): no second look. */
  readonly legacy: number;
  /** When the second looks of the last minute were asked (a per-edge bound: MAX_VISION_ASKS_PER_MINUTE). */
  readonly asked?: readonly number[];
  /** Alarms that got no second look because this edge asked for too many. */
  readonly limited?: number;
  /** Verdicts recorded, by verdict. */
  readonly counts?: Readonly<Partial<Record<VisionVerdict, number>>>;
}

/** A clip this edge's actor requested, and how it ended once a worker said. */
export interface ClipRecord {
  readonly id: string;
  readonly alarm: string;
  /** The alarm's start (ms). */
  readonly since: number;
  readonly status: 'requested' | 'stored' | 'failed';
  readonly reason?: string;
  /** When the request or the result was recorded (ms). */
  readonly at: number;
}

/** Clip records kept per edge (the newest). */
export const MAX_CLIPS = 20;

/** An open alarm of a clip kind, watched so a long one gets its clip at the kind's longest clip. */
export interface ArmedClip {
  readonly since: number;
  /** When the clip is requested if the alarm is still open (ms, node clock). */
  readonly due: number;
  /** Requested at `due` (cut there): its end requests nothing more. */
  readonly cut?: boolean;
}

export interface EdgeClips {
  /** Newest last, at most MAX_CLIPS. */
  readonly recent: readonly ClipRecord[];
  /** By alarm name: open alarms of clip kinds. */
  readonly armed?: Readonly<Record<string, ArmedClip>>;
}

/** An edge's assignment from a rollout (the latest one; `pull` delivery is read from here). */
export interface UpdateAssignment {
  readonly rollout: string;
  readonly wave: number;
  readonly attempt: number;
  readonly at: number;
  readonly delivery: 'command' | 'pull';
  readonly targets?: readonly UpdateTarget[];
  readonly configVersion?: number;
  readonly spreadMs: number;
  readonly healthDeadlineMs: number;
  readonly rollback?: boolean;
  /** `assigned`, then the edge's last reported state. */
  readonly state: 'assigned' | UpdateState;
  readonly reason?: string;
}

/** A version the edge reported healthy, by package name. */
export interface InstalledPackage {
  readonly version: string;
  readonly path: string;
  readonly kind?: string;
  readonly sha256?: string;
  readonly length?: number;
  readonly rollout: string;
  readonly at: number;
}

export interface UpdateHistoryEntry {
  readonly rollout: string;
  readonly name: string;
  readonly version: string;
  readonly state: UpdateState;
  readonly at: number;
  readonly reason?: string;
}

/** History entries kept per edge (the newest). */
export const MAX_UPDATE_HISTORY = 30;

export interface EdgeUpdates {
  readonly assigned?: UpdateAssignment;
  /** Rollouts this edge is a member of: its health events go to them until `until` (ms). */
  readonly enrolled?: Readonly<Record<string, number>>;
  readonly installed?: Readonly<Record<string, InstalledPackage>>;
  readonly history?: readonly UpdateHistoryEntry[];
}

/** A plain object (not null, not an array): how the handlers check a payload and its fields. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
