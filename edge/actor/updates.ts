/**
 * The edge actor's part in rollouts (edge/rollout/): its assignment (`updateAssign`, from the
 * rollout as mail: recorded, and for `command` delivery the `update` command issued through
 * `outgoing()`; `pull` delivery is read from the state by the gateway), its reports
 * (`updateState`, from the link: a report for a rollout it is not assigned is refused for good —
 * dead-lettered; installed versions and a bounded history recorded; forwarded to the rollout), its
 * enrolments (`updateEnroll`) and, while enrolled, its health events — an alarm raised, a
 * reconnect, a restart (new boot id), going offline — sent to the rollout (`withHealth`).
 *
 * Mail comes at least once: an assignment already recorded (same rollout, same or older attempt)
 * is ignored, as is a repeated report (same rollout, target and state as the last).
 */
import { type ActorContext, TerminalError } from '../../actors/mod.ts';
import type { UpdateCommandArgs, UpdateStatePayload } from '../protocol/mod.ts';
import { UPDATE_STATES } from '../protocol/mod.ts';
import type {
  EdgeStateMessage,
  HealthEventKind,
  UpdateAssignPayload,
  UpdateEnrollPayload,
} from '../rollout/mod.ts';
import { outgoing } from './commands.ts';
import {
  type EdgeState,
  type EdgeUpdates,
  type InstalledPackage,
  isRecord,
  MAX_UPDATE_HISTORY,
  type UpdateAssignment,
} from './state.ts';

/** How long the edge has to answer the `update` command itself (it answers at once: accepted). */
const UPDATE_COMMAND_MS = 10 * 60_000;
/** Most rollouts an edge is enrolled in at once (the newest kept). */
const MAX_ENROLMENTS = 8;

const withUpdates = (state: EdgeState, updates: EdgeUpdates): EdgeState => ({ ...state, updates });

export function onUpdateAssign(
  state: EdgeState,
  p: UpdateAssignPayload,
  ctx: ActorContext,
): EdgeState | undefined {
  if (!isRecord(p) || typeof p.rollout !== 'string' || !Number.isInteger(p.attempt) || p.attempt < 1)
    throw new TerminalError('updateAssign: rollout and attempt (≥ 1) are required');
  if (p.delivery !== 'command' && p.delivery !== 'pull')
    throw new TerminalError('updateAssign: delivery must be "command" or "pull"');
  const updates = state.updates ?? {};
  const current = updates.assigned;
  if (current?.rollout === p.rollout && current.attempt >= p.attempt) return undefined; // mail again
  const assigned: UpdateAssignment = {
    rollout: p.rollout,
    wave: p.wave,
    attempt: p.attempt,
    at: ctx.now,
    delivery: p.delivery,
    ...(p.targets === undefined ? {} : { targets: p.targets }),
    ...(p.configVersion === undefined ? {} : { configVersion: p.configVersion }),
    spreadMs: p.spreadMs,
    healthDeadlineMs: p.healthDeadlineMs,
    ...(p.rollback ? { rollback: true } : {}),
    state: 'assigned',
  };
  const next = withUpdates(state, { ...updates, assigned });
  // A configuration's version is served by the gateway (its rollout gate): the event, committed
  // with this state, wakes the edge's configuration long-poll there at once.
  if (p.configVersion !== undefined)
    ctx.emit({
      type: 'update.assigned',
      edgeId: ctx.id,
      rollout: p.rollout,
      attempt: p.attempt,
      configVersion: p.configVersion,
      ...(p.rollback ? { rollback: true } : {}),
    });
  if (p.delivery === 'pull' || p.targets === undefined) return next;
  const args: UpdateCommandArgs = {
    rollout: p.rollout,
    targets: p.targets,
    spreadMs: p.spreadMs,
    healthDeadlineMs: p.healthDeadlineMs,
    ...(p.rollback ? { rollback: true } : {}),
  };
  const out = outgoing(next, ctx);
  out.issue({
    id: `upd-${p.rollout}-${p.attempt}`.slice(0, 64),
    type: 'update',
    args: args as unknown as Record<string, unknown>,
    deadline: ctx.now + UPDATE_COMMAND_MS,
  });
  return out.done(next);
}

export function onUpdateState(
  state: EdgeState,
  p: UpdateStatePayload,
  ctx: ActorContext,
): EdgeState | undefined {
  if (
    !isRecord(p) ||
    typeof p.rollout !== 'string' ||
    !(UPDATE_STATES as readonly string[]).includes(p.state)
  )
    throw new TerminalError(`updateState: rollout and a state of ${UPDATE_STATES.join(', ')} are required`);
  const updates = state.updates ?? {};
  const assigned = updates.assigned;
  if (assigned?.rollout !== p.rollout)
    throw new TerminalError(`updateState: edge ${ctx.id} is not in rollout ${JSON.stringify(p.rollout)}`, {
      code: 'NOT_IN_ROLLOUT',
    });
  const last = updates.history?.at(-1);
  if (
    last?.rollout === p.rollout &&
    last.name === p.name &&
    last.version === p.version &&
    last.state === p.state &&
    p.state !== 'downloading'
  )
    return undefined; // a repeated report
  const history = historyAfter(updates.history, p, ctx.now);
  const installed =
    p.state === 'healthy' ? installedAfter(updates.installed, assigned, p, ctx.now) : updates.installed;
  ctx.emit({
    type: 'update.state',
    edgeId: ctx.id,
    rollout: p.rollout,
    target: p.target,
    name: p.name,
    version: p.version,
    state: p.state,
    ...(p.progress === undefined ? {} : { progress: p.progress }),
    ...(p.reason === undefined ? {} : { reason: p.reason }),
  });
  if (p.state !== 'downloading' || last?.state !== 'downloading') {
    const message: EdgeStateMessage = {
      edgeId: ctx.id,
      state: p.state,
      version: String(p.version),
      ...(p.reason === undefined ? {} : { reason: p.reason }),
    };
    ctx.send(`rollout/${p.rollout}`, 'edgeState', message);
  }
  const nextAssigned: UpdateAssignment = {
    ...assigned,
    state: p.state,
    ...(p.reason === undefined ? {} : { reason: p.reason }),
  };
  return withUpdates(state, {
    ...updates,
    assigned: nextAssigned,
    history,
    ...(installed === undefined ? {} : { installed }),
  });
}

/** The history with the report's entry: a progress report replaces the one before it, else appended (bounded). */
function historyAfter(
  before: EdgeUpdates['history'],
  p: UpdateStatePayload,
  now: number,
): NonNullable<EdgeUpdates['history']> {
  const last = before?.at(-1);
  const entry = {
    rollout: p.rollout,
    name: String(p.name),
    version: String(p.version),
    state: p.state,
    at: now,
    ...(typeof p.reason === 'string' ? { reason: p.reason.slice(0, 200) } : {}),
  };
  // Progress reports update the assignment but do not fill the history.
  return p.state === 'downloading' && last?.state === 'downloading' && last.rollout === p.rollout
    ? [...(before ?? []).slice(0, -1), entry]
    : [...(before ?? []), entry].slice(-MAX_UPDATE_HISTORY);
}

/** The installed packages with the one a `healthy` report names, from its assignment's target. */
function installedAfter(
  installed: EdgeUpdates['installed'],
  assigned: UpdateAssignment,
  p: UpdateStatePayload,
  now: number,
): NonNullable<EdgeUpdates['installed']> {
  // A roll back's assignment carries the newer targets: its report keeps the version and path it
  // went back to and no hash (never the newer target's hash with the older version).
  const target = assigned.rollback
    ? undefined
    : (assigned.targets?.find((t) => t.name === p.name) ??
      assigned.targets?.find((t) => t.path === p.target));
  const kind = target?.kind ?? installed?.[String(p.name)]?.kind;
  const record: InstalledPackage = {
    version: String(p.version),
    path: target?.path ?? String(p.target),
    ...(kind === undefined ? {} : { kind }),
    ...(target === undefined ? {} : { sha256: target.sha256, length: target.length }),
    rollout: p.rollout,
    at: now,
  };
  return { ...installed, [String(p.name)]: record };
}

export function onUpdateEnroll(
  state: EdgeState,
  p: UpdateEnrollPayload,
  ctx: ActorContext,
): EdgeState | undefined {
  if (!isRecord(p) || typeof p.rollout !== 'string' || typeof p.until !== 'number')
    throw new TerminalError('updateEnroll: rollout and until are required');
  const enrolled: Record<string, number> = {};
  for (const [r, until] of Object.entries(state.updates?.enrolled ?? {}))
    if (until > ctx.now) enrolled[r] = until;
  if (p.until > ctx.now) enrolled[p.rollout] = p.until;
  else delete enrolled[p.rollout];
  const kept = Object.entries(enrolled)
    .sort((a, b) => b[1] - a[1])
    .slice(0, MAX_ENROLMENTS);
  return withUpdates(state, { ...(state.updates ?? {}), enrolled: Object.fromEntries(kept) });
}

/** The health events between two states of the edge (an alarm raised, reconnect, restart, offline). */
export function healthEvents(before: EdgeState, after: EdgeState): HealthEventKind[] {
  const out: HealthEventKind[] = [];
  if (after.alarmsRaised > before.alarmsRaised) out.push('alarm');
  if (!before.online && after.online && before.firstSeen !== null) out.push('reconnect');
  if (before.seq.boot !== '' && after.seq.boot !== before.seq.boot) out.push('restart');
  if (before.online && !after.online) out.push('offline');
  return out;
}

/** `handler` (synchronous), and for an enrolled edge its health events sent to each rollout it is in. */
export function withHealth<P, R extends EdgeState | undefined>(
  handler: (state: EdgeState, payload: P, ctx: ActorContext) => R,
): (state: EdgeState, payload: P, ctx: ActorContext) => R {
  return (state, payload, ctx) => {
    const next = handler(state, payload, ctx);
    const enrolled = state.updates?.enrolled;
    if (enrolled === undefined || next === undefined) return next;
    const events = healthEvents(state, next);
    for (const [rollout, until] of Object.entries(enrolled)) {
      if (until <= ctx.now) continue;
      for (const event of events)
        ctx.send(`rollout/${rollout}`, 'health', { edgeId: ctx.id, event, at: ctx.now });
    }
    return next;
  };
}
