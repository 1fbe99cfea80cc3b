/**
 * Dead-lettering a device message a link could not take: counted per error code, logged with the
 * edge id (at most LOGS_PER_SECOND a second, then one line saying how many were not logged),
 * written to the dead-letter stream with a bounded excerpt of its bytes and the reason — within
 * its edge's byte budget (bus `queueEdgeDeadLetter`).
 */
import type { Logger } from '../../actors/mod.ts';
import type { Bus, DeadLetterBudget } from '../../bus/mod.ts';
import type { DecodeError } from '../protocol/mod.ts';

export interface LinkStats {
  /** Device messages handed over by the transport. */
  received: number;
  /** Mailbox entries enqueued (a decoded message is one entry). */
  enqueued: number;
  /** Device messages dead-lettered, per error code (stored or only counted over budget). */
  deadLettered: Record<string, number>;
}

const LOGS_PER_SECOND = 20;

/** Lets through at most LOGS_PER_SECOND dead-letter log lines a second; counts the rest. */
export class DeadLetterLog {
  readonly #log: Logger;
  #second = 0;
  #logged = 0;
  #suppressed = 0;

  constructor(log: Logger) {
    this.#log = log;
  }

  write(level: 'warn' | 'error', fields: Record<string, unknown>, message: string): void {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.#second) {
      if (this.#suppressed > 0)
        this.#log.warn({ suppressed: this.#suppressed }, 'dead letters not logged (log rate limit)');
      this.#second = second;
      this.#logged = 0;
      this.#suppressed = 0;
    }
    if (this.#logged >= LOGS_PER_SECOND) {
      this.#suppressed++;
      return;
    }
    this.#logged++;
    this.#log[level](fields, message);
  }
}

export function queueDeviceDeadLetter(
  pipeline: Parameters<Bus['queueEdgeDeadLetter']>[0],
  context: { bus: Bus; stats: LinkStats; log: DeadLetterLog; link: string; budget?: DeadLetterBudget },
  message: {
    /** The edge the message names (topic, key), when it names one. */
    edgeId: string | undefined;
    /** Whose budget and count it goes to: an edge of the fleet, or `-`. */
    budgetEdge: string;
    source: string;
    entryId: string;
    payload: Uint8Array;
    error: DecodeError;
    /** The error behind an INTERNAL one, for the log. */
    cause?: Error;
  },
): void {
  const { bus, stats, log, link, budget } = context;
  const { edgeId, source, entryId, payload, error, cause } = message;
  stats.deadLettered[error.code] = (stats.deadLettered[error.code] ?? 0) + 1;
  if (cause === undefined)
    log.write(
      'warn',
      { edgeId, source, code: error.code, reason: error.message },
      'device message dead-lettered',
    );
  else
    log.write(
      'error',
      { edgeId, source, code: error.code, err: cause },
      'a device message failed the link (a bug): dead-lettered',
    );
  bus.queueEdgeDeadLetter(
    pipeline,
    {
      entryId,
      shard: -1,
      address: edgeId === undefined ? '' : `edge/${edgeId}`,
      method: source,
      payload,
      code: error.code,
      reason: `${error.code}: ${error.message}`,
      node: link,
    },
    { edge: message.budgetEdge, ...(budget === undefined ? {} : { budget }) },
  );
}
