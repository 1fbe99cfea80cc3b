/**
 * The policies the hub nodes' edge actors follow, from the `devicehub` configuration's global
 * document (checked by routes/config-documents.ts): the alarm-clip policy (`clips`, else
 * DEFAULT_CLIP_POLICY) and the recognition policy (`recognition`, else DEFAULT_RECOGNITION_POLICY).
 * A configured policy replaces its default whole (a kind left out gets no clip, no second look).
 * Every gateway writes both to Redis (`keyspace.clipPolicy`, `keyspace.recognitionPolicy`, JSON,
 * one MSET on the `{meta}` tag) at start, whenever a devicehub document changes anywhere in the
 * cluster, and every 30 s (a change notice lost, or two gateways writing in the wrong order, is
 * mended then); the nodes read them every few seconds (edge/actor/policy-source.ts).
 */
import { and, eq } from 'drizzle-orm';
import type { Logger } from '../actors/mod.ts';
import { type Bus, toError } from '../bus/mod.ts';
import {
  type ClipPolicy,
  clipPolicyProblem,
  DEFAULT_CLIP_POLICY,
  DEFAULT_RECOGNITION_POLICY,
  type RecognitionPolicy,
  recognitionPolicyProblem,
} from '../edge/protocol/mod.ts';
import { coalescedRun } from './coalesced-run.ts';
import type { Db } from './db/database.ts';
import { configDocuments } from './db/schema.ts';

export interface EffectivePolicies {
  readonly clips: ClipPolicy;
  readonly recognition: RecognitionPolicy;
}

/** The effective policies: the global devicehub document's `clips` and `recognition`, else the defaults. */
export async function effectivePolicies(db: Db, log?: Logger): Promise<EffectivePolicies> {
  const [row] = await db
    .select({ body: configDocuments.body })
    .from(configDocuments)
    .where(and(eq(configDocuments.kind, 'devicehub'), eq(configDocuments.scope, 'global')));
  return {
    clips: checked(row?.body.clips, {
      fallback: DEFAULT_CLIP_POLICY,
      problem: clipPolicyProblem,
      what: 'clip',
      log,
    }),
    recognition: checked(row?.body.recognition, {
      fallback: DEFAULT_RECOGNITION_POLICY,
      problem: recognitionPolicyProblem,
      what: 'recognition',
      log,
    }),
  };
}

function checked<T>(
  value: unknown,
  options: {
    fallback: T;
    problem: (value: unknown) => string | undefined;
    what: string;
    log?: Logger | undefined;
  },
): T {
  if (value === undefined) return options.fallback;
  const problem = options.problem(value);
  if (problem === undefined) return value as T;
  // Written before the schema checked it: the default rather than a policy nobody checked.
  options.log?.warn(
    { problem },
    `the devicehub configuration has an invalid ${options.what} policy; using the default`,
  );
  return options.fallback;
}

export interface PolicyPublisherOptions {
  readonly db: Db;
  readonly bus: Bus;
  readonly logger: Logger;
  /** Between writes when nothing changed (ms; default 30 000). */
  readonly intervalMs?: number;
}

/** Writes the effective policies to Redis now, on `publish()`, and every `intervalMs`. */
export class PolicyPublisher implements AsyncDisposable {
  readonly #o: PolicyPublisherOptions;
  #recognition: RecognitionPolicy = DEFAULT_RECOGNITION_POLICY;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: PolicyPublisherOptions) {
    const { intervalMs = 30_000 } = options;
    if (!(intervalMs >= 100 && intervalMs <= 3_600_000))
      throw new RangeError(`Cannot publish the policies: intervalMs must be 100..3600000, got ${intervalMs}`);
    this.#o = { ...options, intervalMs };
  }

  /** The first write (awaited: the nodes find the policies as soon as a gateway is up), then the timer. */
  async start(): Promise<this> {
    await this.publish();
    this.#timer = setInterval(() => void this.publish(), this.#o.intervalMs);
    this.#timer.unref();
    return this;
  }

  /**
   * Reads the policy and writes it; a call while one runs makes one more run after it (so a
   * write that came in meanwhile is seen). Failures are logged, never thrown.
   */
  publish(): Promise<void> {
    return this.#publish();
  }

  readonly #publish = coalescedRun(() => this.#write());

  async #write(): Promise<void> {
    const { db, bus, logger } = this.#o;
    try {
      const { clips, recognition } = await effectivePolicies(db, logger);
      this.#recognition = recognition;
      await bus.redis.mset(
        bus.keyspace.clipPolicy,
        JSON.stringify(clips),
        bus.keyspace.recognitionPolicy,
        JSON.stringify(recognition),
      );
    } catch (error) {
      logger.warn({ err: toError(error) }, 'could not publish the policies; the nodes keep the last ones');
    }
  }

  /** The recognition policy last read (the outbox sink's recognition jobs follow it). */
  recognition(): RecognitionPolicy {
    return this.#recognition;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#publish.idle();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
