/**
 * The rollout's `tick` timer, every `spec.tickMs` while the rollout is alive: edges past their
 * timeout are assigned again or counted as timed out; a running rollout pauses on its error
 * threshold or its health comparison, admits pending edges of the current wave (and earlier
 * ones) at the rate limit and within their maintenance windows, and moves on when the wave's
 * gate passes after its hold; a roll back ends when every edge sent back has answered.
 *
 * Members are replaced record by record in the members table itself, not a copy: a tick of
 * 50,000 members is one pass over them (timeouts and counts) and one for admissions, and nothing
 * here throws once the first record is written (edge ids were checked when they joined, so
 * sending them mail cannot fail).
 */
import type { ActorContext } from '../../actors/mod.ts';
import { assign, sinceOf } from './assign.ts';
import { advance, healthVerdict, moved } from './health.ts';
import { countMember, emptyCounts, isInFlight, M, type MemberRecord, type WaveCounts } from './members.ts';
import type { RolloutStatus } from './spec.ts';
import { type RolloutState, summarize } from './state.ts';
import { gate, refill, thresholdTripped } from './waves.ts';
import { inMaintenanceWindow } from './windows.ts';

/** Statuses in which the tick keeps running. */
const TICKING = new Set<RolloutStatus>(['running', 'paused', 'rolling_back']);

export function tick(state: RolloutState, _data: unknown, ctx: ActorContext): RolloutState | undefined {
  const spec = state.spec;
  if (spec === null || !TICKING.has(state.status))
    return state.ticking ? { ...state, ticking: false } : undefined;
  const now = ctx.now;
  // In place (see the file's comment): copying 50,000 records every tick costs more than the tick.
  const members = state.members as Record<string, MemberRecord>;
  let health = advance(state.health, now);
  // Timeouts: retry while attempts are left (not during a roll back), else timed out. The same
  // pass counts each member as it leaves it; admissions keep the counts up to date.
  const timeoutS = spec.edgeTimeoutMs / 1000;
  const nowS = (now - state.createdAt) / 1000;
  const counts = Array.from({ length: spec.waves.length }, emptyCounts);
  for (const id in members) {
    const r = members[id]!;
    if (!(isInFlight(r[1]) || r[1] === M.rollbackSent) || nowS - r[3] < timeoutS) {
      countMember(counts, r);
      continue;
    }
    if (r[1] !== M.rollbackSent && state.status === 'running' && r[2] <= spec.retries)
      members[id] = assign(ctx, {
        spec,
        edgeId: id,
        record: r,
        attempt: r[2] + 1,
        createdAt: state.createdAt,
      });
    else {
      const to = r[1] === M.rollbackSent ? M.failed : M.timedOut;
      health = moved(health, r[1], to);
      members[id] = [r[0], to, r[2], sinceOf(state.createdAt, now), r[4], r[5]];
    }
    countMember(counts, members[id]!);
  }
  let next: RolloutState = { ...state, members, health, updatedAt: now, ticking: true };
  if (next.status === 'running') next = runningTick(next, ctx, counts);
  // Rolling back, every touched edge was sent back: in flight means not answered yet.
  if (next.status === 'rolling_back' && counts.every((c) => c.inFlight === 0))
    next = changeStatus(next, ctx, 'rolled_back', next.reason);
  if (TICKING.has(next.status)) ctx.setTimer('tick', spec.tickMs);
  else next = { ...next, ticking: false };
  return progressed(next, ctx, counts);
}

/** Threshold, health, admissions and the gate of a running rollout. */
function runningTick(state: RolloutState, ctx: ActorContext, counts: WaveCounts[]): RolloutState {
  const spec = state.spec!;
  const now = ctx.now;
  const failed = counts.reduce((n, c) => n + c.failed, 0);
  const finished = failed + counts.reduce((n, c) => n + c.healthy, 0);
  const tripped = thresholdTripped(spec.errorThreshold, { failed, finished }, state.errorBase);
  if (tripped !== undefined) return changeStatus(state, ctx, 'paused', tripped);
  const healthTest = healthVerdict(state.health, spec);
  state = { ...state, healthTest };
  if (healthTest.significant) {
    const reason = `health comparison: updated edges ${healthTest.updatedEvents} events in ${healthTest.updatedHours} edge-hours vs ${healthTest.controlEvents} in ${healthTest.controlHours} not yet updated (ratio ${healthTest.ratio}, p = ${healthTest.pValue})`;
    return changeStatus(state, ctx, 'paused', reason);
  }
  state = admit(state, ctx, counts);
  const wave = spec.waves[state.wave];
  if (wave === undefined) return changeStatus(state, ctx, 'completed');
  const c = counts[state.wave]!;
  let doneAt = state.waveDoneAt;
  if (c.pending === 0 && c.inFlight === 0 && doneAt === 0) {
    doneAt = now;
    ctx.emit({
      type: 'rollout.wave',
      rollout: ctx.id,
      wave: state.wave,
      name: wave.name,
      phase: 'holding',
      ...c,
    });
  } else if ((c.pending > 0 || c.inFlight > 0) && doneAt !== 0) doneAt = 0; // an edge joined: wait again
  state = { ...state, waveDoneAt: doneAt };
  const verdict = gate(wave, c, { doneAt, now });
  if (verdict.kind === 'fail')
    return changeStatus(
      state,
      ctx,
      'paused',
      `wave "${wave.name}" gate: ${verdict.healthyPercent.toFixed(1)} % healthy, ${wave.successPercent} % needed`,
    );
  if (verdict.kind !== 'pass') return state;
  ctx.emit({
    type: 'rollout.wave',
    rollout: ctx.id,
    wave: state.wave,
    name: wave.name,
    phase: 'passed',
    ...c,
  });
  const nextWave = state.wave + 1;
  if (nextWave >= spec.waves.length)
    return changeStatus({ ...state, wave: nextWave, waveDoneAt: 0 }, ctx, 'completed');
  const name = spec.waves[nextWave]!.name;
  ctx.emit({
    type: 'rollout.wave',
    rollout: ctx.id,
    wave: nextWave,
    name,
    phase: 'started',
    ...counts[nextWave]!,
  });
  return { ...state, wave: nextWave, waveDoneAt: 0 };
}

/** Assigns pending members of the current wave and earlier ones, as the rate and their windows allow. */
function admit(state: RolloutState, ctx: ActorContext, counts: WaveCounts[]): RolloutState {
  const spec = state.spec!;
  const bucket = refill(state.bucket, spec, ctx.now);
  const members = state.members as Record<string, MemberRecord>;
  let health = state.health;
  const open = new Map<number, boolean>();
  for (const id in members) {
    if (bucket.tokens < 1) break;
    const r = members[id]!;
    if (r[1] !== M.pending || r[0] > state.wave) continue;
    let inWindow = open.get(r[4]);
    if (inWindow === undefined) {
      inWindow = inMaintenanceWindow(spec.maintenanceWindows, state.zones[r[4]] ?? 'UTC', ctx.now);
      open.set(r[4], inWindow);
    }
    if (!inWindow) continue;
    members[id] = assign(ctx, { spec, edgeId: id, record: r, attempt: r[2] + 1, createdAt: state.createdAt });
    health = moved(health, M.pending, M.assigned);
    counts[r[0]]!.pending--;
    counts[r[0]]!.inFlight++;
    bucket.tokens--;
  }
  return { ...state, bucket, health };
}

/** The rollout's new status, with its `rollout.state` event. */
export function changeStatus(
  state: RolloutState,
  ctx: ActorContext,
  status: RolloutStatus,
  reason?: string,
): RolloutState {
  const next: RolloutState = {
    ...state,
    status,
    updatedAt: ctx.now,
    ...(reason === undefined ? { reason: undefined } : { reason }),
  };
  if (reason === undefined) delete (next as { reason?: string }).reason;
  ctx.emit({ type: 'rollout.state', rollout: ctx.id, ...summarize(next) });
  if (status !== 'running') ctx.log.info({ rollout: ctx.id, status, reason }, 'rollout status changed');
  return next;
}

/** A `rollout.wave` progress event when the current wave's counts changed since the last one. */
function progressed(state: RolloutState, ctx: ActorContext, counts: readonly WaveCounts[]): RolloutState {
  const waves = state.spec?.waves ?? [];
  const c = counts[state.wave];
  if (c === undefined) return state;
  const key = `${state.wave}:${c.members}:${c.pending}:${c.inFlight}:${c.healthy}:${c.failed}:${c.reverted}`;
  if (key === state.lastProgress) return state;
  ctx.emit({
    type: 'rollout.wave',
    rollout: ctx.id,
    wave: state.wave,
    name: waves[state.wave]!.name,
    phase: 'progress',
    ...c,
  });
  return { ...state, lastProgress: key };
}
