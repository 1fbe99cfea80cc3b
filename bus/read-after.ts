/**
 * Read-your-writes tokens across gateway processes (read-after.lua): after a write, the gateway
 * stores the primary's WAL position for the caller; before a heavy read, any gateway reads it and
 * sends the read to the replica only once the replica has replayed that far (gateway/db/read-router.ts).
 */
import type { Bus } from './bus.ts';
import { ScriptReplyError } from './errors.ts';
import { runScript } from './scripts.ts';

const TOKEN = /^[0-9a-f]{16}$/;

/** Records `position` (16 hex digits) for `caller` for `ttlMs`, keeping a later one already there. */
export async function markReadAfter(
  bus: Bus,
  input: { caller: string; position: string; ttlMs: number },
): Promise<string> {
  if (!TOKEN.test(input.position))
    throw new RangeError(`Cannot mark a write: position must be 16 hex digits, got ${input.position}`);
  if (!Number.isInteger(input.ttlMs) || input.ttlMs < 1)
    throw new RangeError(`Cannot mark a write: ttlMs must be a positive integer, got ${input.ttlMs}`);
  const reply = await runScript(
    bus.redis,
    'read-after',
    [bus.keyspace.readAfter(input.caller)],
    [input.position, input.ttlMs],
  );
  if (typeof reply !== 'string' || !TOKEN.test(reply))
    throw new ScriptReplyError('read-after', `expected a position, got ${JSON.stringify(reply)}`);
  return reply;
}

/** The caller's token (16 hex digits), or undefined when it wrote nothing recently. */
export async function readAfter(bus: Bus, caller: string): Promise<string | undefined> {
  const token = await bus.redis.get(bus.keyspace.readAfter(caller));
  return token !== null && TOKEN.test(token) ? token : undefined;
}
