/**
 * The alarm-clip policy a hub node's edge actors use: the gateways write the configuration's
 * effective policy to Redis (`keyspace.clipPolicy`, gateway/clip-policy.ts); this reads it at
 * start and every few seconds, so `createEdgeActor({ clipPolicy: source.current })` asks memory,
 * never Redis, in a turn. No policy written yet: DEFAULT_CLIP_POLICY. A value that is not a policy
 * (or Redis unreachable) keeps the last good one, logged once per change.
 */
import type { Logger } from '../../actors/mod.ts';
import type { Keyspace, Redis } from '../../bus/mod.ts';
import { type ClipPolicy, clipPolicyProblem, DEFAULT_CLIP_POLICY } from '../protocol/mod.ts';

export interface ClipPolicySource extends AsyncDisposable {
  /** The latest policy read. */
  readonly current: () => ClipPolicy;
  /** Reads it again now. */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

export interface ClipPolicySourceOptions {
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly logger: Logger;
  /** How often the policy is read again (ms; default 5000). */
  readonly intervalMs?: number;
}

/** Reads the policy once, then every `intervalMs` until closed. */
export async function openClipPolicySource(options: ClipPolicySourceOptions): Promise<ClipPolicySource> {
  const { redis, keyspace, logger, intervalMs = 5000 } = options;
  if (!(intervalMs >= 100 && intervalMs <= 600_000))
    throw new RangeError(`Cannot read the clip policy: intervalMs must be 100..600000, got ${intervalMs}`);
  let policy: ClipPolicy = DEFAULT_CLIP_POLICY;
  let text: string | null | undefined; // the last value read (undefined: none yet)
  let complaint = '';
  const complain = (message: string, fields: object) => {
    if (message === complaint) return;
    complaint = message;
    logger.warn(fields, message);
  };

  const refresh = async (): Promise<void> => {
    let value: string | null;
    try {
      value = await redis.get(keyspace.clipPolicy);
    } catch (err) {
      return complain('clip policy: cannot read it, keeping the last one', { err });
    }
    if (value === text) return;
    text = value;
    if (value === null) {
      policy = DEFAULT_CLIP_POLICY;
      complaint = '';
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      return complain('clip policy: not JSON, keeping the last one', { length: value.length });
    }
    const problem = clipPolicyProblem(parsed);
    if (problem !== undefined) return complain('clip policy: refused, keeping the last one', { problem });
    policy = parsed as ClipPolicy;
    complaint = '';
    logger.info({ kinds: Object.keys(policy.kinds) }, 'clip policy');
  };

  await refresh();
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= refresh().finally(() => {
      running = undefined;
    });
  }, intervalMs);
  timer.unref();
  const close = async () => {
    clearInterval(timer);
    await running;
  };
  return { current: () => policy, refresh, close, [Symbol.asyncDispose]: close };
}
