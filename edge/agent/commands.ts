/**
 * The agent's side of commands from the hub (the downlink): each is read, taken once (a
 * redelivered command runs once; one from a hub owner with a lower fencing epoch than already
 * seen is ignored), run by the executor of its type with the command's deadline as an abort
 * signal, and answered with a `result` message.
 */
import type { CompactMessage, DownlinkCommand } from '../protocol/mod.ts';
import { AgentError } from './errors.ts';
import type { Logger } from './logger.ts';

/** Runs one command; the signal aborts at the command's deadline. Its value is the result. */
export type CommandExecutor = (
  args: Readonly<Record<string, unknown>>,
  signal: AbortSignal,
) => Promise<unknown>;

export interface CommandRunnerOptions {
  /** Command type → executor. */
  readonly executors?: Readonly<Record<string, CommandExecutor>> | undefined;
  /** Sends the result message. */
  readonly send: (message: CompactMessage) => void;
  readonly log: Logger;
}

/** Command ids remembered to recognize a redelivery. */
const SEEN_COMMANDS = 1000;

export class CommandRunner {
  readonly #o: CommandRunnerOptions;
  /** Command ids already taken (a redelivered command runs once). */
  readonly #seen = new Set<string>();
  /** Highest fencing epoch seen from the hub: a command from a stale owner is ignored. */
  #epoch = 0;

  constructor(options: CommandRunnerOptions) {
    this.#o = options;
  }

  /** A command as it came from the broker (JSON); never throws. */
  async handle(payload: Buffer): Promise<void> {
    const command = this.#take(payload);
    if (command === undefined) return;
    const reply = (ok: boolean, value?: { result?: unknown; error?: string }) =>
      this.#o.send({ kind: 'result', seq: 0, ts: Date.now(), id: command.id, ok, ...value });
    const executor = this.#o.executors?.[command.type];
    if (executor === undefined) return reply(false, { error: `no executor for "${command.type}"` });
    const left = command.deadline - Date.now();
    if (left <= 0) return reply(false, { error: 'deadline passed' });
    try {
      reply(true, { result: await executor(command.args ?? {}, AbortSignal.timeout(left)) });
    } catch (error) {
      reply(false, { error: error instanceof Error ? error.message : String(error) });
    }
  }

  /** The command to run, or undefined for one that is unreadable, repeated or stale. */
  #take(payload: Buffer): DownlinkCommand | undefined {
    let command: DownlinkCommand;
    try {
      command = JSON.parse(payload.toString('utf8')) as DownlinkCommand;
      if (typeof command.id !== 'string' || typeof command.type !== 'string')
        throw new AgentError('UNREADABLE_COMMAND', 'no id or type');
    } catch (err) {
      this.#o.log.warn({ err }, 'unreadable command ignored');
      return undefined;
    }
    if (this.#seen.has(command.id)) return undefined;
    if (command.epoch < this.#epoch) {
      this.#o.log.warn(
        { commandId: command.id, epoch: command.epoch, seen: this.#epoch },
        'command from a stale hub owner ignored',
      );
      return undefined;
    }
    this.#epoch = command.epoch;
    this.#seen.add(command.id);
    if (this.#seen.size > SEEN_COMMANDS) this.#seen.delete(this.#seen.values().next().value as string);
    return command;
  }
}
