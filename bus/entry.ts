/**
 * The mailbox entry format: one stream entry is one message for one actor.
 *
 *   a  actor address, e.g. `edge/E-000123`
 *   m  method (handler name), or `@timer` for a fired durable timer
 *   p  payload, JSON
 *   t  enqueue time, ms since the epoch (for latency measurement)
 *
 * A hub node reads them flat (`RawEntry`): the four values without the field names.
 */
import { InvalidMessageError, MalformedEntryError } from './errors.ts';

export interface MailboxMessage {
  readonly address: string;
  readonly method: string;
  readonly payload: unknown;
}

export interface MailboxEntry {
  readonly id: string;
  readonly address: string;
  readonly method: string;
  readonly payload: unknown;
  readonly enqueuedAt: number;
}

export const TIMER_METHOD = '@timer';
export const MAX_PAYLOAD_BYTES = 64 * 1024;

const ADDRESS = /^[a-z][a-z0-9-]{0,31}\/[A-Za-z0-9_.:-]{1,128}$/;
const METHOD = /^(@timer|[A-Za-z][A-Za-z0-9_]{0,63})$/;

export function isValidAddress(address: unknown): address is string {
  return typeof address === 'string' && ADDRESS.test(address);
}

/** Encodes a message as XADD field/value pairs, refusing what no actor could take. */
export function encodeEntry(message: MailboxMessage, now: number): string[] {
  if (!isValidAddress(message.address)) {
    throw new InvalidMessageError(
      `Cannot send: address must look like "<type>/<id>" (id of [A-Za-z0-9_.:-], ≤128 chars), got ${JSON.stringify(message.address)}`,
    );
  }
  if (typeof message.method !== 'string' || !METHOD.test(message.method)) {
    throw new InvalidMessageError(
      `Cannot send to ${message.address}: invalid method ${JSON.stringify(message.method)}`,
    );
  }
  const payload = JSON.stringify(message.payload ?? null);
  if (payload.length > MAX_PAYLOAD_BYTES) {
    throw new InvalidMessageError(
      `Cannot send to ${message.address}: payload is ${payload.length} bytes, limit ${MAX_PAYLOAD_BYTES}`,
    );
  }
  return ['a', message.address, 'm', message.method, 'p', payload, 't', String(now)];
}

/**
 * An entry as the read scripts return it (bus/lua/lib/flat-entries.lua): in the usual form flat,
 * its id and the values of a, m, p and t; any other entry with its fields as XREADGROUP gives them
 * (a foreign writer's; `[]` for a pending entry deleted meanwhile).
 */
export type RawEntry =
  | {
      readonly id: string;
      readonly address: string;
      readonly method: string;
      readonly payload: string;
      readonly time: string;
    }
  | { readonly id: string; readonly fields: readonly string[] };

/** A raw entry's field/value pairs (what a dead letter of it records). */
export function rawEntryFields(raw: RawEntry): readonly string[] {
  if ('fields' in raw) return raw.fields;
  return ['a', raw.address, 'm', raw.method, 'p', raw.payload, 't', raw.time];
}

/** Decodes a raw entry (either form); throws MalformedEntryError with the reason. */
export function decodeRawEntry(raw: RawEntry): MailboxEntry {
  if ('fields' in raw) return decodeEntry(raw.id, raw.fields);
  return checked(raw.id, raw.address, raw.method, raw.payload, raw.time);
}

/** Decodes XREADGROUP field/value pairs; throws MalformedEntryError with the reason. */
export function decodeEntry(id: string, fields: readonly string[]): MailboxEntry {
  let address: string | undefined;
  let method: string | undefined;
  let raw: string | undefined;
  let t: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1];
    switch (fields[i]) {
      case 'a':
        address = value;
        break;
      case 'm':
        method = value;
        break;
      case 'p':
        raw = value;
        break;
      case 't':
        t = value;
        break;
    }
  }
  return checked(id, address, method, raw, t);
}

// Positional on purpose: called for every entry a hub node reads, where an object per call would allocate.
function checked(
  id: string,
  address: string | undefined,
  method: string | undefined,
  raw: string | undefined,
  t: string | undefined,
): MailboxEntry {
  if (!isValidAddress(address))
    throw new MalformedEntryError(`entry ${id}: missing or invalid actor address`);
  if (method === undefined || !METHOD.test(method))
    throw new MalformedEntryError(`entry ${id}: missing or invalid method`);
  if (raw === undefined) throw new MalformedEntryError(`entry ${id}: missing payload`);
  let payload: unknown;
  try {
    payload = JSON.parse(raw);
  } catch {
    throw new MalformedEntryError(`entry ${id}: payload is not JSON`);
  }
  const enqueuedAt = Number(t);
  return { id, address, method, payload, enqueuedAt: Number.isFinite(enqueuedAt) ? enqueuedAt : 0 };
}

/** The address field of raw entry fields, if any (for dead-letter records of malformed entries). */
export function rawField(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
