/**
 * The policies a hub node's edge actors follow, read from Redis where the gateways write the
 * configuration's effective ones (gateway/policy-publisher.ts): the alarm-clip policy
 * (`keyspace.clipPolicy`) and the recognition policy (`keyspace.recognitionPolicy`). Both are read
 * with one MGET (one hash tag, `{meta}`) at start and every few seconds, so `createEdgeActor({ clipPolicy: source.clips, recognitionPolicy:
 * source.recognition })` asks memory, never Redis, in a turn. A key not written yet: its default
 * (DEFAULT_CLIP_POLICY, DEFAULT_RECOGNITION_POLICY). A value that is not a policy (or Redis
 * unreachable) keeps the last good one, logged once per change.
 */
import type { Logger } from '../../actors/mod.ts';
import type { Keyspace, Redis } from '../../bus/mod.ts';
import {
  type ClipPolicy,
  clipPolicyProblem,
  DEFAULT_CLIP_POLICY,
  DEFAULT_RECOGNITION_POLICY,
  type RecognitionPolicy,
  recognitionPolicyProblem,
} from '../protocol/mod.ts';

export interface PolicySource extends AsyncDisposable {
  /** The latest alarm-clip policy read. */
  readonly clips: () => ClipPolicy;
  /** The latest recognition policy read. */
  readonly recognition: () => RecognitionPolicy;
  /** Reads both again now. */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

export interface PolicySourceOptions {
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly logger: Logger;
  /** How often the policies are read again (ms; default 5000). */
  readonly intervalMs?: number;
}

/** One policy kept from one key: the last good value, the last text read, the last complaint. */
class PolicyCell<T> {
  value: T;
  #text: string | null | undefined; // undefined: nothing read yet
  #complaint = '';
  readonly key: string;
  readonly #what: string;
  readonly #fallback: T;
  readonly #problem: (value: unknown) => string | undefined;
  readonly #logger: Logger;

  constructor(
    key: string,
    options: { what: string; fallback: T; problem: (value: unknown) => string | undefined; logger: Logger },
  ) {
    this.key = key;
    this.#what = options.what;
    this.value = this.#fallback = options.fallback;
    this.#problem = options.problem;
    this.#logger = options.logger;
  }

  complain(message: string, fields: object): void {
    const text = `${this.#what}: ${message}`;
    if (text === this.#complaint) return;
    this.#complaint = text;
    this.#logger.warn(fields, text);
  }

  take(text: string | null): void {
    if (text === this.#text) return;
    this.#text = text;
    if (text === null) {
      this.value = this.#fallback;
      this.#complaint = '';
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.complain('not JSON, keeping the last one', { length: text.length });
      return;
    }
    const problem = this.#problem(parsed);
    if (problem !== undefined) {
      this.complain('refused, keeping the last one', { problem });
      return;
    }
    this.value = parsed as T;
    this.#complaint = '';
    this.#logger.info({ kinds: Object.keys((parsed as { kinds: object }).kinds) }, this.#what);
  }
}

/** Reads the policies once, then every `intervalMs` until closed. */
export async function openPolicySource(options: PolicySourceOptions): Promise<PolicySource> {
  const { redis, keyspace, logger, intervalMs = 5000 } = options;
  if (!(intervalMs >= 100 && intervalMs <= 600_000))
    throw new RangeError(`Cannot read the policies: intervalMs must be 100..600000, got ${intervalMs}`);
  const clips = new PolicyCell<ClipPolicy>(keyspace.clipPolicy, {
    what: 'clip policy',
    fallback: DEFAULT_CLIP_POLICY,
    problem: clipPolicyProblem,
    logger,
  });
  const recognition = new PolicyCell<RecognitionPolicy>(keyspace.recognitionPolicy, {
    what: 'recognition policy',
    fallback: DEFAULT_RECOGNITION_POLICY,
    problem: recognitionPolicyProblem,
    logger,
  });
  const cells = [clips, recognition] as const;

  const refresh = async (): Promise<void> => {
    let texts: (string | null)[];
    try {
      texts = await redis.mget(...cells.map((c) => c.key));
    } catch (err) {
      for (const cell of cells) cell.complain('cannot read it, keeping the last one', { err });
      return;
    }
    for (const [i, cell] of cells.entries()) cell.take(texts[i] ?? null);
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
  return {
    clips: () => clips.value,
    recognition: () => recognition.value,
    refresh,
    close,
    [Symbol.asyncDispose]: close,
  };
}
