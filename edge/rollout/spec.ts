/**
 * What a rollout is asked to do (`RolloutSpec`) and the messages its actor (`rollout/<id>`) takes:
 * the contract the gateway's rollout API builds against. `checkSpec` fills in the defaults and
 * refuses a spec that cannot work, naming the field and the value.
 *
 * A rollout delivers one target — packages (the `update` command's targets) or a configuration
 * version — to its members in waves. Each member carries the wave it belongs to (or the actor
 * places it: `waveOf` in waves.ts), its building and its building's IANA time zone (maintenance
 * windows are in the building's local time).
 */
import type { UpdateState, UpdateTarget } from '../protocol/mod.ts';

/** What is rolled out: packages (the agent installs them) or a configuration version (the edge pulls it). */
export type RolloutTarget =
  | { readonly kind: 'packages'; readonly targets: readonly UpdateTarget[] }
  | {
      readonly kind: 'config';
      readonly version: number;
      /** The version a roll back returns to (none: a roll back only stops the rollout). */
      readonly previousVersion?: number;
    };

/**
 * One wave. Members are placed by `buildings` (a member of one of these buildings) or by
 * `percent`: the cumulative share of the rollout's members up to and including this wave
 * (1, 10, 50, 100 — the last wave takes everyone left whatever it says).
 */
export interface WaveSpec {
  readonly name: string;
  /** Cumulative percent of the members (0 < percent ≤ 100). */
  readonly percent?: number;
  /** Buildings whose members are in this wave. */
  readonly buildings?: readonly string[];
  /** Share of the wave's members that must be healthy after the hold for the next wave to start (0..100). */
  readonly successPercent: number;
  /** How long the wave's edges are watched, once all of them finished, before the gate (ms). */
  readonly holdMs: number;
}

/** Failures that pause the rollout: a count, a share of the edges that finished, or both (either trips). */
export interface ErrorThreshold {
  readonly count?: number;
  /** Percent of finished edges (healthy + failed + rolled back + timed out) that failed. */
  readonly percent?: number;
  /** The percent rule waits for this many finished edges (default 10). */
  readonly minFinished?: number;
}

/**
 * The health comparison: updated (healthy) edges against members not yet updated, events per
 * edge-hour; a one-sided exact conditional test (health-test.ts) pauses the rollout when the
 * updated edges are significantly worse.
 */
export interface HealthComparison {
  /** Default true. */
  readonly enabled?: boolean;
  /** One-sided significance level (default 0.01). */
  readonly alpha?: number;
  /** Events among the updated edges before the test may pause anything (default 5). */
  readonly minEvents?: number;
  /** The rate ratio (updated / not updated) below which nothing pauses, whatever the p-value (default 1.5). */
  readonly minRatio?: number;
  /** The events compared (default all four). */
  readonly events?: readonly HealthEventKind[];
}

/** When edges may be updated, in their building's local time: `days` 0 = Sunday … 6; `HH:MM`, end exclusive. */
export interface MaintenanceWindow {
  /** Days the window starts on (default every day). A window whose end is before its start runs past midnight. */
  readonly days?: readonly number[];
  readonly start: string;
  readonly end: string;
}

/** How a member gets its assignment: an `update` command, or by reading it from its edge actor's state (wall screens, configuration). */
export type Delivery = 'command' | 'pull';

export interface RolloutSpec {
  readonly target: RolloutTarget;
  readonly waves: readonly WaveSpec[];
  readonly errorThreshold?: ErrorThreshold;
  readonly health?: HealthComparison;
  /** Most edges started per minute, all waves together (default 600). */
  readonly ratePerMinute?: number;
  /** None: any time. */
  readonly maintenanceWindows?: readonly MaintenanceWindow[];
  /** An edge not finished this long after its assignment is retried, then counted failed (default 30 min). */
  readonly edgeTimeoutMs?: number;
  /** Assignments after the first one for an edge that timed out (default 1). */
  readonly retries?: number;
  /** The agents' random start delay (UpdateCommandArgs.spreadMs, default 60 s). */
  readonly spreadMs?: number;
  /** UpdateCommandArgs.healthDeadlineMs (default 5 min). */
  readonly healthDeadlineMs?: number;
  /** Default delivery of members that do not say (default `command`; config rollouts: `pull`). */
  readonly delivery?: Delivery;
  /** How often the actor looks at its waves (default 2 s). */
  readonly tickMs?: number;
}

/** A member of a rollout as the API sends it. */
export interface RolloutMember {
  readonly edgeId: string;
  /** Index into `waves`; none: placed by `waveOf` (buildings, then percent by hash). */
  readonly wave?: number;
  readonly building?: string;
  /** IANA time zone of the building (default UTC). */
  readonly timeZone?: string;
  /** Default the spec's. */
  readonly delivery?: Delivery;
}

/** The `create` message: idempotent (a second create of the same id only adds members). */
export interface CreateRollout {
  readonly spec: RolloutSpec;
  /** At most ~500 per message (the 64 KiB mailbox limit): send the rest with `join`. */
  readonly members?: readonly RolloutMember[];
  /** Who asked (shown in events). */
  readonly by?: string;
}

/** The `join` message: edges that match later, placed in the current wave or a later one. */
export interface JoinRollout {
  readonly members: readonly RolloutMember[];
}

/** The `edgeState` message: an edge's update report, forwarded by its edge actor. */
export interface EdgeStateMessage {
  readonly edgeId: string;
  readonly state: UpdateState;
  readonly reason?: string;
  readonly progress?: number;
  readonly version?: string;
}

export const HEALTH_EVENT_KINDS = ['alarm', 'reconnect', 'restart', 'offline'] as const;
export type HealthEventKind = (typeof HEALTH_EVENT_KINDS)[number];

/** The `health` message: an event of an enrolled edge, sent by its edge actor. */
export interface HealthMessage {
  readonly edgeId: string;
  readonly event: HealthEventKind;
  /** When it happened (ms). */
  readonly at: number;
}

/** The `pause`, `resume`, `abort` and `rollback` messages. */
export interface OperatorAction {
  readonly by?: string;
  readonly reason?: string;
}

/**
 * What the rollout sends an edge actor (`updateAssign`): the edge's assignment, idempotent per
 * (rollout, attempt). For `command` delivery the edge actor issues the `update` command.
 */
export interface UpdateAssignPayload {
  readonly rollout: string;
  readonly wave: number;
  /** 1 for the first assignment, +1 per retry; a roll back is a new attempt too. */
  readonly attempt: number;
  readonly targets?: readonly UpdateTarget[];
  readonly configVersion?: number;
  readonly spreadMs: number;
  readonly healthDeadlineMs: number;
  readonly delivery: Delivery;
  readonly rollback?: boolean;
}

/** What the rollout sends each member when it enrolls (`updateEnroll`): send health events until then. */
export interface UpdateEnrollPayload {
  readonly rollout: string;
  /** ms since the epoch; 0 ends the enrolment. */
  readonly until: number;
}

export type RolloutStatus = 'running' | 'paused' | 'completed' | 'aborted' | 'rolling_back' | 'rolled_back';

export interface CheckedSpec extends RolloutSpec {
  readonly ratePerMinute: number;
  readonly edgeTimeoutMs: number;
  readonly retries: number;
  readonly spreadMs: number;
  readonly healthDeadlineMs: number;
  readonly delivery: Delivery;
  readonly tickMs: number;
}

export class RolloutSpecError extends Error {
  readonly code = 'INVALID_ROLLOUT_SPEC';
  constructor(message: string) {
    super(message);
    this.name = 'RolloutSpecError';
  }
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** The spec with its defaults, or a RolloutSpecError naming the field at fault. */
export function checkSpec(spec: RolloutSpec): CheckedSpec {
  const fail = (what: string, value: unknown): never => {
    throw new RolloutSpecError(`Invalid rollout spec: ${what}, got ${JSON.stringify(value)}`);
  };
  if (typeof spec !== 'object' || spec === null) fail('spec must be an object', spec);
  const t = spec.target;
  if (t?.kind === 'packages') {
    if (!Array.isArray(t.targets) || t.targets.length === 0)
      fail('target.targets must not be empty', t.targets);
  } else if (t?.kind === 'config') {
    if (!Number.isInteger(t.version) || t.version < 1)
      fail('target.version must be an integer ≥ 1', t.version);
  } else fail('target.kind must be "packages" or "config"', (t as { kind?: unknown } | undefined)?.kind);
  if (!Array.isArray(spec.waves) || spec.waves.length === 0 || spec.waves.length > 20)
    fail('waves must have 1..20 waves', spec.waves?.length);
  let last = 0;
  spec.waves.forEach((w, i) => {
    if (typeof w.name !== 'string' || w.name.length === 0)
      fail(`waves[${i}].name must be a non-empty string`, w.name);
    if (w.percent === undefined && (w.buildings === undefined || w.buildings.length === 0))
      fail(`waves[${i}] needs a percent or buildings`, w);
    if (w.percent !== undefined) {
      if (!(w.percent > 0 && w.percent <= 100)) fail(`waves[${i}].percent must be in (0, 100]`, w.percent);
      if (w.percent < last) fail(`waves[${i}].percent must not be below the wave before`, w.percent);
      last = w.percent;
    }
    if (!(w.successPercent >= 0 && w.successPercent <= 100))
      fail(`waves[${i}].successPercent must be 0..100`, w.successPercent);
    if (!(Number.isFinite(w.holdMs) && w.holdMs >= 0)) fail(`waves[${i}].holdMs must be ≥ 0`, w.holdMs);
  });
  const e = spec.errorThreshold;
  if (e?.count !== undefined && !(Number.isInteger(e.count) && e.count >= 1))
    fail('errorThreshold.count must be an integer ≥ 1', e.count);
  if (e?.percent !== undefined && !(e.percent > 0 && e.percent <= 100))
    fail('errorThreshold.percent must be in (0, 100]', e.percent);
  const h = spec.health;
  if (h?.alpha !== undefined && !(h.alpha > 0 && h.alpha < 0.5))
    fail('health.alpha must be in (0, 0.5)', h.alpha);
  for (const [i, w] of (spec.maintenanceWindows ?? []).entries()) {
    if (!HHMM.test(w.start) || !HHMM.test(w.end) || w.start === w.end)
      fail(`maintenanceWindows[${i}] needs start and end as different HH:MM`, w);
    if (w.days !== undefined && !w.days.every((d) => Number.isInteger(d) && d >= 0 && d <= 6))
      fail(`maintenanceWindows[${i}].days must be 0..6`, w.days);
  }
  const checked: CheckedSpec = {
    ...spec,
    ratePerMinute: spec.ratePerMinute ?? 600,
    edgeTimeoutMs: spec.edgeTimeoutMs ?? 30 * 60_000,
    retries: spec.retries ?? 1,
    spreadMs: spec.spreadMs ?? 60_000,
    healthDeadlineMs: spec.healthDeadlineMs ?? 5 * 60_000,
    delivery: spec.delivery ?? (t.kind === 'config' ? 'pull' : 'command'),
    tickMs: spec.tickMs ?? 2000,
  };
  if (!(checked.ratePerMinute >= 1)) fail('ratePerMinute must be ≥ 1', checked.ratePerMinute);
  if (!(checked.edgeTimeoutMs >= 1000)) fail('edgeTimeoutMs must be ≥ 1000', checked.edgeTimeoutMs);
  if (!(Number.isInteger(checked.retries) && checked.retries >= 0 && checked.retries <= 10))
    fail('retries must be an integer 0..10', checked.retries);
  if (!(checked.spreadMs >= 0)) fail('spreadMs must be ≥ 0', checked.spreadMs);
  if (!(checked.healthDeadlineMs >= 1000)) fail('healthDeadlineMs must be ≥ 1000', checked.healthDeadlineMs);
  if (checked.delivery !== 'command' && checked.delivery !== 'pull')
    fail('delivery must be "command" or "pull"', checked.delivery);
  if (!(checked.tickMs >= 50 && checked.tickMs <= 60_000)) fail('tickMs must be 50..60000', checked.tickMs);
  return checked;
}

/** A rollout id as addresses and command ids take it. */
export const ROLLOUT_ID = /^[A-Za-z0-9_.-]{1,40}$/;
