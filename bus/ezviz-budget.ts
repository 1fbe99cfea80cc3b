/**
 * The Ezviz Open Platform's rules kept cluster-wide (clips/ezviz uses them): one call budget
 * every clip worker takes from before it sends anything (ezviz-budget.lua: a token bucket with a
 * sliding one-second guard on top), and the cooldown a 10007/10029 answer starts for all of them
 * (ezviz-cooldown.lua, growing on repeats). Keys: `Keyspace.ezviz` (one hash tag).
 */
import { randomBytes } from 'node:crypto';
import type { Bus } from './bus.ts';
import { ScriptReplyError } from './errors.ts';
import { runScript } from './scripts.ts';

export interface EzvizBudget {
  /** Calls per second the whole cluster may send (keep it below the account's limit). */
  readonly perSecond: number;
  /** Calls that may go at once after a quiet spell (1..perSecond is sensible). */
  readonly burst: number;
  /**
   * The sliding window in which at most floor(perSecond) calls are granted, ms: a little over a
   * second, so that calls granted apart and delayed differently on the way (up to windowMs − 1000
   * ms: a busy event loop, the network) still fit in Ezviz's one-second windows. The steady rate is
   * then perSecond × 1000 / windowMs. Default 1100.
   */
  readonly windowMs?: number;
}

/** What the budget said: taken, or how long to wait and why. */
export type BudgetGrant =
  | { readonly taken: true }
  | { readonly taken: false; readonly waitMs: number; readonly cooldown: boolean };

export interface EzvizCooldown {
  /** The Ezviz code answered (`10007`, `10029`). */
  readonly code: string;
  /** The first cooldown, ms; it doubles for each repeat. */
  readonly baseMs: number;
  /** The longest cooldown, ms. */
  readonly maxMs: number;
  /** How long without a rate answer until the cooldown starts from baseMs again, ms. Default 10 × baseMs. */
  readonly memoryMs?: number;
}

function checkBudget(budget: EzvizBudget): number {
  const { perSecond, burst, windowMs = 1100 } = budget;
  if (!(Number.isFinite(perSecond) && perSecond > 0 && perSecond <= 10_000)) {
    throw new RangeError(`Cannot take Ezviz budget: perSecond must be in (0, 10000], got ${perSecond}`);
  }
  if (!(Number.isFinite(burst) && burst >= 1 && burst <= 10_000)) {
    throw new RangeError(`Cannot take Ezviz budget: burst must be in [1, 10000], got ${burst}`);
  }
  if (!(Number.isInteger(windowMs) && windowMs >= 1000 && windowMs <= 60_000)) {
    throw new RangeError(
      `Cannot take Ezviz budget: windowMs must be an integer 1000..60000, got ${windowMs}`,
    );
  }
  return windowMs;
}

function pair(script: string, reply: unknown): [number, number] {
  if (!Array.isArray(reply) || reply.length !== 2) {
    throw new ScriptReplyError(script, `expected {code, ms}, got ${JSON.stringify(reply)}`);
  }
  const [a, b] = reply.map(Number) as [number, number];
  if (!Number.isInteger(a) || !Number.isInteger(b) || b < 0) {
    throw new ScriptReplyError(script, `expected two integers, got ${JSON.stringify(reply)}`);
  }
  return [a, b];
}

/** ezviz-budget.lua: takes one call from the cluster's budget, or says how long to wait. */
export async function takeEzvizBudget(bus: Bus, budget: EzvizBudget): Promise<BudgetGrant> {
  const windowMs = checkBudget(budget);
  const keys = bus.keyspace.ezviz;
  const reply = await runScript(
    bus.redis,
    'ezviz-budget',
    [keys.bucket, keys.grants, keys.cooldown],
    [budget.perSecond, budget.burst, windowMs, randomBytes(8).toString('hex')],
  );
  const [code, waitMs] = pair('ezviz-budget', reply);
  if (code === 1) return { taken: true };
  if (code === 0 || code === 2) return { taken: false, waitMs: Math.max(1, waitMs), cooldown: code === 2 };
  throw new ScriptReplyError('ezviz-budget', `unknown reply code ${code}`);
}

/** ezviz-cooldown.lua: starts (or reads) the cluster-wide cooldown after a rate-limit answer. */
export async function startEzvizCooldown(
  bus: Bus,
  input: EzvizCooldown,
): Promise<{ cooldownMs: number; strikes: number }> {
  const { code, baseMs, maxMs, memoryMs = baseMs * 10 } = input;
  if (!(Number.isInteger(baseMs) && baseMs >= 1 && Number.isInteger(maxMs) && maxMs >= baseMs)) {
    throw new RangeError(
      `Cannot start Ezviz cooldown: baseMs must be an integer ≥ 1 and maxMs ≥ baseMs, got ${baseMs}, ${maxMs}`,
    );
  }
  const keys = bus.keyspace.ezviz;
  const reply = await runScript(
    bus.redis,
    'ezviz-cooldown',
    [keys.cooldown, keys.strikes],
    [baseMs, maxMs, memoryMs, code],
  );
  const [cooldownMs, strikes] = pair('ezviz-cooldown', reply);
  return { cooldownMs, strikes };
}
