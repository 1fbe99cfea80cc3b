/**
 * The sink handler that keeps the rollouts table in step with the actors: each `rollout.state`
 * event's status (and member count) onto its row, a final status finishing it (the membership job
 * and the configuration gate stop there). The last event of a batch per rollout wins; a batch
 * that comes twice writes the same.
 */
import type { Db } from '../db/database.ts';
import type { SinkHandler } from '../outbox/sink.ts';
import { recordStatus } from './store.ts';

export function recordRollouts(db: Db): SinkHandler {
  return async (items) => {
    const last = new Map<string, { status: string; members?: number }>();
    for (const { event } of items) {
      if (
        event.type !== 'rollout.state' ||
        typeof event.rollout !== 'string' ||
        typeof event.status !== 'string'
      )
        continue;
      last.set(event.rollout, {
        status: event.status,
        ...(typeof event.members === 'number' ? { members: event.members } : {}),
      });
    }
    for (const [id, { status, members }] of last) await recordStatus(db, id, status, members);
  };
}
