/**
 * Dead-lettering a device message a link could not decode: counted per error code, logged with
 * the edge id, written to the dead-letter stream with the raw bytes (base64) and the reason.
 */
import type { Logger } from '../actors/mod.ts';
import { type Keyspace, queueDeadLetter } from '../bus/mod.ts';
import type { DecodeError } from './errors.ts';

export interface LinkStats {
  received: number;
  enqueued: number;
  deadLettered: Record<string, number>;
}

export function queueDeviceDeadLetter(
  pipeline: Parameters<typeof queueDeadLetter>[0],
  keyspace: Keyspace,
  context: { stats: LinkStats; log: Logger; link: string },
  message: {
    edgeId: string | undefined;
    source: string;
    entryId: string;
    payload: Uint8Array;
    error: DecodeError;
  },
): void {
  const { stats, log, link } = context;
  const { edgeId, source, entryId, payload, error } = message;
  stats.deadLettered[error.code] = (stats.deadLettered[error.code] ?? 0) + 1;
  log.warn({ edgeId, source, code: error.code, reason: error.message }, 'device message dead-lettered');
  queueDeadLetter(pipeline, keyspace, {
    entryId,
    shard: -1,
    address: edgeId === undefined ? '' : `edge/${edgeId}`,
    method: source,
    payload: Buffer.from(payload).toString('base64'),
    reason: `${error.code}: ${error.message}`,
    node: link,
  });
}
