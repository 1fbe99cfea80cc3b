/**
 * Commands to the edge: issuing them (to the outbox, over the edge's transport, with the lease's
 * fencing epoch), recording them in the state (the newest MAX_COMMANDS, finished ones dropped
 * first), their results from the edge, and their deadlines (one durable `commands` timer for the
 * earliest pending one). A tunnel's open command ends its tunnel's opening either way (tunnels.ts).
 */
import { type ActorContext, TerminalError } from '../../actors/mod.ts';
import type { CommandPayload, CommandResultPayload } from '../protocol/mod.ts';
import { type CommandRecord, type EdgeState, isRecord, MAX_COMMANDS } from './state.ts';
import { type IssueCommand, openResult } from './tunnels.ts';

/** Keeps the newest commands, dropping finished ones first. */
function trimCommands(commands: Record<string, CommandRecord>): Record<string, CommandRecord> {
  const ids = Object.keys(commands);
  if (ids.length <= MAX_COMMANDS) return commands;
  const finished = ids
    .filter((id) => commands[id]!.status !== 'sent')
    .sort((a, b) => commands[a]!.at - commands[b]!.at);
  const out = { ...commands };
  for (const id of finished.slice(0, ids.length - MAX_COMMANDS)) delete out[id];
  return out;
}

/** Re-arms the commands timer for the earliest pending deadline (or cancels it). */
function armCommandTimer(commands: Readonly<Record<string, CommandRecord>>, ctx: ActorContext): void {
  const pending = Object.values(commands).filter((c) => c.status === 'sent');
  if (pending.length === 0) ctx.cancelTimer('commands');
  else ctx.setTimer('commands', Math.max(0, Math.min(...pending.map((c) => c.deadline)) - ctx.now));
}

/**
 * Commands a handler sends the edge: each goes to the outbox (over the edge's transport, with the
 * lease's fencing epoch) and into the state's command records; `done` puts the records in the
 * state and re-arms the deadline timer.
 */
export function outgoing(state: EdgeState, ctx: ActorContext) {
  let commands: Record<string, CommandRecord> | undefined;
  const issue: IssueCommand = ({ id, type, args, deadline }) => {
    commands ??= { ...(state.commands ?? {}) };
    if (commands[id] !== undefined) return; // a repeated id: already handled
    if (deadline <= ctx.now) {
      commands[id] = {
        type,
        status: 'failed',
        deadline,
        at: ctx.now,
        error: 'deadline passed before sending',
      };
      return;
    }
    commands[id] = { type, status: 'sent', deadline, at: ctx.now };
    ctx.emit({
      type: 'command',
      edgeId: ctx.id,
      id,
      command: type,
      args,
      deadline,
      epoch: ctx.epoch,
      transport: state.transport ?? 'mqtt',
    });
  };
  /** `rearm`: the records changed otherwise too (a result, a timeout): re-arm even if none went out. */
  const done = (next: EdgeState, rearm = false): EdgeState => {
    if (commands === undefined) {
      if (rearm) armCommandTimer(next.commands ?? {}, ctx);
      return next;
    }
    const trimmed = trimCommands(commands);
    armCommandTimer(trimmed, ctx);
    return { ...next, commands: trimmed };
  };
  return { issue, done };
}

/** The `command` handler: a command from the hub's side, sent to the edge once per id. */
export function onCommand(
  state: EdgeState,
  payload: CommandPayload,
  ctx: ActorContext,
): EdgeState | undefined {
  if (!isRecord(payload) || typeof payload.id !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(payload.id)) {
    throw new TerminalError('command: id must be 1..64 characters of [A-Za-z0-9_.:-]');
  }
  if (typeof payload.type !== 'string' || payload.type.length === 0 || payload.type.length > 64) {
    throw new TerminalError('command: type must be a non-empty string of at most 64 characters');
  }
  if (!Number.isFinite(payload.deadline)) throw new TerminalError('command: deadline must be a time in ms');
  if (state.commands?.[payload.id] !== undefined) return undefined; // a repeated id: already handled
  const out = outgoing(state, ctx);
  out.issue({
    id: payload.id,
    type: payload.type,
    args: { ...(payload.args ?? {}) },
    deadline: payload.deadline,
  });
  return out.done(state);
}

/** The `commandResult` handler: the edge's answer to a command still waiting for one. */
export function onCommandResult(
  state: EdgeState,
  payload: CommandResultPayload,
  ctx: ActorContext,
): EdgeState | undefined {
  if (!isRecord(payload) || typeof payload.id !== 'string')
    throw new TerminalError('commandResult: id must be a string');
  const command = state.commands?.[payload.id];
  if (command === undefined || command.status !== 'sent') return undefined; // unknown, late or repeated
  const record: CommandRecord = {
    ...command,
    status: payload.ok === true ? 'succeeded' : 'failed',
    at: ctx.now,
    ...(payload.ok === true ? { result: payload.result } : { error: String(payload.error ?? 'failed') }),
  };
  const commands = { ...state.commands, [payload.id]: record };
  ctx.emit({
    type: 'command.result',
    edgeId: ctx.id,
    id: payload.id,
    ok: payload.ok === true,
    result: record.result,
    error: record.error,
  });
  const next: EdgeState = { ...state, commands };
  const out = outgoing(next, ctx);
  const result =
    record.status === 'succeeded' ? { ok: true, result: record.result } : { ok: false, error: record.error };
  const tunnels = openResult(
    next.tunnels ?? {},
    { commandId: payload.id, result },
    { ctx, issue: out.issue },
  );
  return out.done(tunnels === undefined ? next : { ...next, tunnels }, true);
}

/** The `commands` timer's handler: commands past their deadline have failed (timeout). */
export function commandsTimer(state: EdgeState, _data: unknown, ctx: ActorContext): EdgeState | undefined {
  const commands = { ...(state.commands ?? {}) };
  const timedOut: string[] = [];
  for (const [id, c] of Object.entries(commands)) {
    if (c.status === 'sent' && c.deadline <= ctx.now) {
      commands[id] = {
        ...c,
        status: 'failed',
        at: ctx.now,
        error: 'timeout: no result before the deadline',
      };
      ctx.emit({ type: 'command.result', edgeId: ctx.id, id, ok: false, error: 'timeout' });
      timedOut.push(id);
    }
  }
  if (timedOut.length === 0) {
    armCommandTimer(commands, ctx);
    return undefined;
  }
  // A tunnel whose edge never answered its open command has failed.
  let next: EdgeState = { ...state, commands };
  const out = outgoing(next, ctx);
  for (const id of timedOut) {
    const tunnels = openResult(
      next.tunnels ?? {},
      { commandId: id, result: { ok: false, error: 'the edge did not answer in time' } },
      { ctx, issue: out.issue },
    );
    if (tunnels !== undefined) next = { ...next, tunnels };
  }
  return out.done(next, true);
}
