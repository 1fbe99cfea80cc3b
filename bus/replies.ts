/**
 * Where a Lua script's reply becomes a typed result or a typed error: the one place.
 *
 * Each bus script (`lua/<name>.lua`, whose header documents its reply) has one reader here; the
 * operations of `Bus` (bus.ts) call them on every reply, direct or pipelined. A reply code that
 * means a refusal becomes its BusError subclass (errors.ts): the port pool's `{0, holder}` a
 * ClaimTakenError, its `{-1}` a PortsExhaustedError; a reply of the wrong shape a ScriptReplyError.
 * Refusals a caller acts on per shard (a fenced commit, a lost lease) are results, not errors.
 */
import type { RawEntry } from './entry.ts';
import { ClaimTakenError, PortsExhaustedError, ScriptReplyError } from './errors.ts';

/** heartbeat.lua: Redis's clock when the heartbeat was recorded, and the live members. */
export interface MembershipView {
  /** Redis's clock when the heartbeat was recorded (ms). */
  readonly now: number;
  /** Live node ids, sorted. */
  readonly nodes: readonly string[];
}

/** acquire.lua: a lease now held by the node. */
export interface Granted {
  readonly shard: number;
  readonly epoch: number;
  /** The node the lease was taken from after it expired ('' when free, released or ours). */
  readonly previous: string;
}

/** read-ready.lua / read-shards.lua: a shard's entries, each flat or as XREADGROUP gives it (`RawEntry`). */
export interface RawShardEntries {
  readonly shard: number;
  readonly entries: RawEntry[];
}

function list(script: string, reply: unknown): unknown[] {
  if (!Array.isArray(reply)) throw new ScriptReplyError(script, `expected an array, got ${describe(reply)}`);
  return reply;
}

function integer(script: string, reply: unknown): number {
  const n = typeof reply === 'string' ? Number(reply) : reply;
  if (typeof n !== 'number' || !Number.isInteger(n))
    throw new ScriptReplyError(script, `expected an integer, got ${describe(reply)}`);
  return n;
}

function text(script: string, reply: unknown): string {
  if (typeof reply !== 'string')
    throw new ScriptReplyError(script, `expected a string, got ${describe(reply)}`);
  return reply;
}

function describe(reply: unknown): string {
  if (Array.isArray(reply)) return `an array of ${reply.length}`;
  return reply === null ? 'nil' : `${typeof reply} ${String(reply).slice(0, 64)}`;
}

function counted(script: string, reply: unknown[], expected: number): unknown[] {
  if (reply.length !== expected)
    throw new ScriptReplyError(script, `expected ${expected} values, got ${reply.length}`);
  return reply;
}

/** heartbeat.lua: `{ nowMs, node... }`. */
export function heartbeatReply(reply: unknown): MembershipView {
  const [now, ...nodes] = list('heartbeat', reply);
  return { now: integer('heartbeat', now), nodes: nodes.map((n) => text('heartbeat', n)) };
}

/** acquire.lua: a `{ epoch, previous }` pair per shard, in `shards` order; only granted ones come back. */
export function acquireReply(reply: unknown, shards: readonly number[]): Granted[] {
  const pairs = counted('acquire', list('acquire', reply), shards.length);
  const granted: Granted[] = [];
  pairs.forEach((pair, i) => {
    const [epoch, previous] = counted('acquire', list('acquire', pair), 2);
    const e = integer('acquire', epoch);
    if (e > 0) granted.push({ shard: shards[i]!, epoch: e, previous: String(previous ?? '') });
  });
  return granted;
}

/** renew.lua: 1 or 0 per shard, in `shards` order; the shards whose lease was lost come back. */
export function renewReply(reply: unknown, shards: readonly number[]): number[] {
  const flags = counted('renew', list('renew', reply), shards.length);
  return shards.filter((_, i) => integer('renew', flags[i]) !== 1);
}

/** release.lua: how many leases were released. */
export function releaseReply(reply: unknown): number {
  return integer('release', reply);
}

/** enqueue-many.lua: the new entries' ids, in the order the call listed the messages. */
export function enqueueManyReply(reply: unknown, expected: number): string[] {
  return counted('enqueue-many', list('enqueue-many', reply), expected).map((id) => text('enqueue-many', id));
}

function entries(script: string, reply: unknown): RawEntry[] {
  return list(script, reply).map((entry): RawEntry => {
    const flat = list(script, entry);
    const id = text(script, flat[0]);
    // Flat: { id, address, method, payload, time } (lib/flat-entries.lua).
    if (flat.length === 5) {
      return {
        id,
        address: text(script, flat[1]),
        method: text(script, flat[2]),
        payload: text(script, flat[3]),
        time: text(script, flat[4]),
      };
    }
    // As XREADGROUP gives it, or with nil fields: a pending entry trimmed or deleted meanwhile.
    const fields = flat[1];
    return { id, fields: fields === null ? [] : (list(script, fields) as string[]) };
  });
}

/** read-ready.lua: `{ shard, entries, shard, entries, ... }`. */
export function readReadyReply(reply: unknown): RawShardEntries[] {
  const flat = list('read-ready', reply);
  const out: RawShardEntries[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2)
    out.push({ shard: integer('read-ready', flat[i]), entries: entries('read-ready', flat[i + 1]) });
  return out;
}

/** read-shards.lua: `{ i, entries, ... }`, i the 1-based position of the shard in `shards`. */
export function readShardsReply(reply: unknown, shards: readonly number[]): RawShardEntries[] {
  const flat = list('read-shards', reply);
  const out: RawShardEntries[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const shard = shards[integer('read-shards', flat[i]) - 1];
    if (shard === undefined) throw new ScriptReplyError('read-shards', `no shard at position ${flat[i]}`);
    out.push({ shard, entries: entries('read-shards', flat[i + 1]) });
  }
  return out;
}

/** commit.lua: the 1-based positions of the refused shards in `shards`; those shards come back (fenced). */
export function commitReply(reply: unknown, shards: readonly number[]): number[] {
  return list('commit', reply).map((index) => {
    const shard = shards[integer('commit', index) - 1];
    if (shard === undefined) throw new ScriptReplyError('commit', `no shard at position ${String(index)}`);
    return shard;
  });
}

/** fire-timers.lua: the number of timers fired. */
export function fireTimersReply(reply: unknown): number {
  return integer('fire-timers', reply);
}

/** trim.lua: the entries removed, and the backlog (not yet delivered + pending) of the trimmed streams. */
export interface Trimmed {
  readonly removed: number;
  readonly backlog: number;
}

/** trim.lua: `{removed, backlog}`. */
export function trimReply(reply: unknown): Trimmed {
  const [removed, backlog] = counted('trim', list('trim', reply), 2);
  return { removed: integer('trim', removed), backlog: integer('trim', backlog) };
}

/**
 * ports-allocate.lua: `{1, port...}` the ports; `{0, holder}` ClaimTakenError; `{-1}`
 * PortsExhaustedError (retryable).
 */
export function portsAllocateReply(
  reply: unknown,
  asked: { readonly count: number; readonly low: number; readonly high: number },
): number[] {
  const [status, ...rest] = list('ports-allocate', reply);
  const code = integer('ports-allocate', status);
  if (code === 0) {
    const holder = text('ports-allocate', rest[0]);
    throw new ClaimTakenError(`Already held by ${holder}`, holder);
  }
  if (code < 0)
    throw new PortsExhaustedError(
      `No ${asked.count} free port(s) left in ${asked.low}..${asked.high}; close a tunnel or widen the range`,
    );
  return rest.map((port) => integer('ports-allocate', port));
}

/** ports-release.lua: how many ports were released. */
export function portsReleaseReply(reply: unknown): number {
  return integer('ports-release', reply);
}

/** lease.lua: whether the caller holds (hold) or held (drop) the lease. */
export function leaseReply(reply: unknown): boolean {
  return integer('lease', reply) === 1;
}

/** dead-letter.lua: whether the letter was stored (false: only counted, over its edge's budget). */
export function deadLetterReply(reply: unknown): boolean {
  return integer('dead-letter', reply) === 1;
}
