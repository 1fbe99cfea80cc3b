/**
 * Script calls queued on a pipeline: a caller that batches several operations (dead letters and
 * a commit, a lease per tag group, a link's batch) queues each, sends the pipeline once, and reads
 * each operation's typed result out of the replies (bus/replies.ts turns them into results or
 * typed errors).
 */
import type { ChainableCommander } from 'ioredis';
import { BusError } from './errors.ts';
import { execOrThrow } from './pipeline.ts';
import { runScript, type ScriptName } from './scripts.ts';

/** One pipeline reply as `exec()` gives it: the command's error, or null and its value. */
export type PipelineReply = readonly [Error | null, unknown];

/** An operation queued on a pipeline. */
export interface Queued<T> {
  /** Index of its first reply among the pipeline's replies. */
  readonly index: number;
  /** Replies it takes: one per command it queued (e.g. one per hash-tag group). */
  readonly count: number;
  /**
   * Its typed result, from all the replies of the pipeline it was queued on: throws the first of
   * its commands' errors, or the typed error its reply maps to.
   */
  read(replies: readonly PipelineReply[]): T;
}

/**
 * Queues commands with `queue` and returns the operation that reads their replies with `parse`
 * (which gets them in order, errors already thrown).
 */
export function queueOperation<T>(
  pipeline: ChainableCommander,
  queue: (pipeline: ChainableCommander) => void,
  parse: (values: unknown[]) => T,
): Queued<T> {
  const index = pipeline.length;
  queue(pipeline);
  const count = pipeline.length - index;
  return {
    index,
    count,
    read(replies) {
      const values: unknown[] = [];
      for (let i = index; i < index + count; i++) {
        const reply = replies[i];
        if (reply === undefined)
          throw new BusError(
            'PIPELINE_REPLY_MISSING',
            `Pipeline reply ${i} is missing (${replies.length} replies)`,
          );
        if (reply[0]) throw reply[0];
        values.push(reply[1]);
      }
      return parse(values);
    },
  };
}

/** Sends a pipeline and resolves with every reply, errors included, for `Queued.read`. */
export async function sendPipeline(pipeline: ChainableCommander): Promise<PipelineReply[]> {
  return (await pipeline.exec()) ?? [];
}

/** Sends a pipeline holding `operation` alone and resolves with its result. */
export async function runQueued<T>(pipeline: ChainableCommander, operation: Queued<T>): Promise<T> {
  const values = await execOrThrow(pipeline);
  return operation.read(values.map((value) => [null, value] as const));
}

/** One call of a bus script: its KEYS and ARGV. */
export interface ScriptCall {
  readonly keys: readonly string[];
  readonly args: readonly (string | number)[];
}

export interface PerGroup<G, T> {
  readonly script: ScriptName;
  /** One script call per group (a hash-tag group: its keys share one slot). */
  readonly groups: readonly G[];
  readonly call: (group: G) => ScriptCall;
  /** The groups' replies, in group order, into the operation's result. */
  readonly parse: (replies: unknown[]) => T;
}

/**
 * Queues `script` once per hash-tag group (on a Redis Cluster the pipeline splits the calls per
 * node) and returns the operation that reads their replies.
 */
export function queuePerGroup<G, T>(pipeline: ChainableCommander, o: PerGroup<G, T>): Queued<T> {
  return queueOperation(
    pipeline,
    (p) => {
      for (const group of o.groups) {
        const { keys, args } = o.call(group);
        runScript(p, o.script, keys, args);
      }
    },
    o.parse,
  );
}

/** Adds up a count read from each group's reply (leases released, timers fired, entries trimmed). */
export const sumOf =
  (count: (reply: unknown) => number) =>
  (replies: unknown[]): number =>
    replies.reduce<number>((sum, reply) => sum + count(reply), 0);
