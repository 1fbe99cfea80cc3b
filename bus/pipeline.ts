/** Runs a pipeline and returns its replies, throwing the first command error instead of hiding it. */
import type { ChainableCommander } from 'ioredis';

export async function execOrThrow(pipeline: ChainableCommander): Promise<unknown[]> {
  const results = (await pipeline.exec()) ?? [];
  return results.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}
