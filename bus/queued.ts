/**
 * Script calls queued on a pipeline: a caller that batches several operations (dead letters and
 * a commit, a lease per tag group, a link's batch) queues each, sends the pipeline once, and reads
 * each operation's typed result out of the replies (bus/replies.ts turns them into results or
 * typed errors).
 */
import type { ChainableCommander } from 'ioredis';
import { BusError } from './errors.ts';
import { execOrThrow } from './pipeline.ts';

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
