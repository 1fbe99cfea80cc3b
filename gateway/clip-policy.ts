/**
 * The alarm-clip policy the hub nodes' edge actors follow: the `clips` value of the `devicehub`
 * configuration's global document (`PUT /v1/config/devicehub/global {"clips": {"kinds": …}}`,
 * checked by routes/config-documents.ts), else DEFAULT_CLIP_POLICY. A configured policy replaces
 * the default whole (a kind left out gets no clips). Every gateway writes it to Redis
 * (`keyspace.clipPolicy`, JSON) at start, whenever a devicehub document changes anywhere in the
 * cluster, and every 30 s (a change notice lost, or two gateways writing in the wrong order, is
 * mended then); the nodes read it every few seconds (edge/actor/clip-policy-source.ts).
 */
import { and, eq } from 'drizzle-orm';
import type { Logger } from '../actors/mod.ts';
import { type Bus, toError } from '../bus/mod.ts';
import { type ClipPolicy, clipPolicyProblem, DEFAULT_CLIP_POLICY } from '../edge/protocol/mod.ts';
import type { Db } from './db/database.ts';
import { configDocuments } from './db/schema.ts';

/** The effective clip policy: the global devicehub document's `clips`, else the default. */
export async function effectiveClipPolicy(db: Db, log?: Logger): Promise<ClipPolicy> {
  const [row] = await db
    .select({ body: configDocuments.body })
    .from(configDocuments)
    .where(and(eq(configDocuments.kind, 'devicehub'), eq(configDocuments.scope, 'global')));
  const clips = row?.body.clips;
  if (clips === undefined) return DEFAULT_CLIP_POLICY;
  const problem = clipPolicyProblem(clips);
  if (problem === undefined) return clips as ClipPolicy;
  // Written before the schema checked it: the default rather than a policy nobody checked.
  log?.warn({ problem }, 'the devicehub configuration has an invalid clip policy; using the default');
  return DEFAULT_CLIP_POLICY;
}

export interface ClipPolicyPublisherOptions {
  readonly db: Db;
  readonly bus: Bus;
  readonly logger: Logger;
  /** Between writes when nothing changed (ms; default 30 000). */
  readonly intervalMs?: number;
}

/** Writes the effective policy to Redis now, on `publish()`, and every `intervalMs`. */
export class ClipPolicyPublisher implements AsyncDisposable {
  readonly #o: ClipPolicyPublisherOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(options: ClipPolicyPublisherOptions) {
    const { intervalMs = 30_000 } = options;
    if (!(intervalMs >= 100 && intervalMs <= 3_600_000))
      throw new RangeError(
        `Cannot publish the clip policy: intervalMs must be 100..3600000, got ${intervalMs}`,
      );
    this.#o = { ...options, intervalMs };
  }

  /** The first write (awaited: the nodes find the policy as soon as a gateway is up), then the timer. */
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
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.#write();
      } while (this.#again);
    })().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #write(): Promise<void> {
    const { db, bus, logger } = this.#o;
    try {
      const policy = await effectiveClipPolicy(db, logger);
      await bus.redis.set(bus.keyspace.clipPolicy, JSON.stringify(policy));
    } catch (error) {
      logger.warn({ err: toError(error) }, 'could not publish the clip policy; the nodes keep the last one');
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
