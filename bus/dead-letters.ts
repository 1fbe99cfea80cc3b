/**
 * The dead-letter stream: messages no actor could take, each with the reason, who gave up and
 * a bounded excerpt of the payload (its first DEAD_LETTER_EXCERPT_BYTES, with the full length
 * and SHA-256), never the whole payload. The stream is capped (approximately) at
 * MAX_DEAD_LETTERS entries, each under ~1.5 KiB. What the links refuse from devices goes
 * through `queueEdgeDeadLetter`: counted per edge and per code always, stored only within the
 * edge's byte budget (dead-letter.lua). Reading: dead-letter-reads.ts.
 */
import { createHash } from 'node:crypto';
import type { ChainableCommander } from 'ioredis';
import type { Bus } from './bus.ts';
import { type Queued, queueOperation } from './queued.ts';
import { deadLetterReply } from './replies.ts';
import { runScript } from './scripts.ts';

/** Entries the stream keeps (approximately): at ~1.5 KiB at most each, ≤ ~75 MB. */
export const MAX_DEAD_LETTERS = 50_000;
/** Bytes of a payload kept in its dead letter (base64 for device bytes, text for mailbox payloads). */
export const DEAD_LETTER_EXCERPT_BYTES = 256;
/** Longest reason, method/source and address kept, in characters. */
const MAX_REASON_CHARS = 512;
const MAX_FIELD_CHARS = 256;

/** What one edge may store in dead letters per window; beyond it they are counted, not stored. */
export interface DeadLetterBudget {
  readonly bytes: number;
  readonly windowMs: number;
}
export const DEFAULT_DEAD_LETTER_BUDGET: DeadLetterBudget = { bytes: 16 * 1024, windowMs: 60_000 };

export interface DeadLetter {
  readonly id: string;
  /** Id of the original mailbox entry, or where the transport kept the message. */
  readonly entryId: string;
  readonly shard: number;
  readonly address: string;
  /** The handler's method, or the topic a device message came on. */
  readonly method: string;
  /** The payload's excerpt (see `encoding`). */
  readonly payload: string;
  /** `base64`: a device message's first bytes; `text`: a mailbox payload's first characters. */
  readonly encoding: 'base64' | 'text';
  /** The whole payload's length in bytes. */
  readonly bytes: number;
  /** SHA-256 of the whole payload, hex ('' when there was none). */
  readonly sha256: string;
  /** The error code (device messages), '' otherwise. */
  readonly code: string;
  readonly reason: string;
  readonly node: string;
  readonly at: number;
}

export interface DeadLetterInput {
  readonly entryId: string;
  readonly shard: number;
  readonly address?: string;
  readonly method?: string;
  /** A mailbox payload (JSON text) or a device message's bytes; only an excerpt is kept. */
  readonly payload?: string | Uint8Array;
  readonly code?: string;
  readonly reason: string;
  readonly node: string;
}

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** The letter's stream fields, with the payload reduced to its excerpt, length and hash. */
function letterFields(letter: DeadLetterInput): string[] {
  const { payload } = letter;
  let excerpt = '';
  let encoding: DeadLetter['encoding'] = 'text';
  let bytes = 0;
  let sha256 = '';
  if (typeof payload === 'string') {
    bytes = Buffer.byteLength(payload);
    excerpt = payload.slice(0, DEAD_LETTER_EXCERPT_BYTES);
    sha256 = createHash('sha256').update(payload).digest('hex');
  } else if (payload !== undefined) {
    const buffer = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    bytes = buffer.byteLength;
    excerpt = buffer.subarray(0, DEAD_LETTER_EXCERPT_BYTES).toString('base64');
    encoding = 'base64';
    sha256 = createHash('sha256').update(buffer).digest('hex');
  }
  return [
    ...['entry', cut(letter.entryId, MAX_FIELD_CHARS), 'shard', String(letter.shard)],
    ...['a', cut(letter.address ?? '', MAX_FIELD_CHARS), 'm', cut(letter.method ?? '', MAX_FIELD_CHARS)],
    ...['p', excerpt, 'pe', encoding, 'pl', String(bytes), 'ph', sha256, 'code', letter.code ?? ''],
    ...['reason', cut(letter.reason, MAX_REASON_CHARS), 'node', cut(letter.node, MAX_FIELD_CHARS)],
    ...['at', String(Date.now())],
  ];
}

/** Queues one dead letter on a pipeline (XADD to the capped stream); reads its stream id. */
export function queueDeadLetter(
  bus: Bus,
  pipeline: ChainableCommander,
  letter: DeadLetterInput,
): Queued<string> {
  return queueOperation(
    pipeline,
    (p) => p.xadd(bus.keyspace.deadLetters, 'MAXLEN', '~', MAX_DEAD_LETTERS, '*', ...letterFields(letter)),
    ([id]) => String(id),
  );
}

/** How a device message's dead letter is charged: to `edge`'s budget. */
export interface EdgeDeadLetterOptions {
  /** The budget's owner: an edge of the fleet, or `-` for messages that name none (they share one). */
  readonly edge: string;
  readonly budget?: DeadLetterBudget;
}

/** A device message's dead letter and the edge whose budget it is charged to. */
export interface EdgeDeadLetter extends EdgeDeadLetterOptions {
  readonly letter: DeadLetterInput & { readonly code: string };
}

/**
 * Queues a device message's dead letter (dead-letter.lua): counted for `input.edge` and the
 * letter's code, stored only while that edge's budget for the window lasts. Reads true when
 * stored, false when only counted.
 */
export function queueEdgeDeadLetter(
  bus: Bus,
  pipeline: ChainableCommander,
  input: EdgeDeadLetter,
): Queued<boolean> {
  const { keyspace } = bus;
  const { letter, edge, budget = DEFAULT_DEAD_LETTER_BUDGET } = input;
  const fields = letterFields(letter);
  const cost = fields.reduce((sum, f) => sum + f.length, 0);
  return queueOperation(
    pipeline,
    (p) =>
      runScript(
        p,
        'dead-letter',
        [
          keyspace.deadLetters,
          keyspace.deadLetterBudget(edge),
          keyspace.deadLetterEdges,
          keyspace.deadLetterTotals,
        ],
        [MAX_DEAD_LETTERS, budget.bytes, budget.windowMs, edge, letter.code, cost, ...fields],
      ),
    ([stored]) => deadLetterReply(stored),
  );
}
