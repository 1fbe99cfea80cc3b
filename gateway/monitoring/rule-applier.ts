/**
 * Applying the operator alert rules: one gateway in the cluster (the named lease
 * `prometheus-rules`) renders the rules from the database into `<rulesDir>/operator.yml`
 * (written to a temporary file and renamed over it: Prometheus never reads half a file), POSTs
 * Prometheus's `/-/reload`, and checks `/api/v1/rules` shows the group with exactly these rules.
 * It does so when told the rules changed (`kick()`, after every write anywhere in the cluster),
 * and every `intervalMs` (default 30 s) it looks again: a file changed by hand, a Prometheus that
 * restarted with other rules or a reload that failed is mended then. Outcomes are counted
 * (`devicehub_alert_rules_applied{outcome="applied|unchanged|failed"}`).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Counter, type Registry } from 'prom-client';
import { type Logger, silentLogger } from '../../actors/mod.ts';
import { type Bus, toError } from '../../bus/mod.ts';
import { coalescedRun } from '../coalesced-run.ts';
import type { Db } from '../db/database.ts';
import type { PrometheusClient } from './prometheus-client.ts';
import { listAlertRules } from './rule-store.ts';
import { OPERATOR_GROUP, renderRuleGroup, rulesVersion } from './rules.ts';

/** The named lease (bus/keys.ts builds its key) that makes one gateway apply the rules. */
export const RULES_LEASE = 'prometheus-rules';
/** The file the gateway owns in Prometheus's rules folder. */
export const OPERATOR_RULES_FILE = 'operator.yml';

export type ApplyOutcome = 'applied' | 'unchanged' | 'failed';

export interface RuleApplierOptions {
  readonly db: Db;
  readonly bus: Bus;
  /** This gateway's name in the cluster's leases. */
  readonly holder: string;
  /** The gateway's Prometheus client (the same one `GET /v1/servers*` asks). */
  readonly prometheus: PrometheusClient;
  readonly rulesDir: string;
  readonly logger?: Logger;
  /** Between looks when nothing was said to change (default 30 s). */
  readonly intervalMs?: number;
}

export class AlertRuleApplier implements AsyncDisposable {
  readonly outcomes = new Map<ApplyOutcome, number>();
  readonly #o: RuleApplierOptions;
  readonly #log: Logger;
  readonly #interval: number;
  readonly #prometheus: PrometheusClient;
  #timer: ReturnType<typeof setInterval> | undefined;
  #stopped = false;
  /** The version last seen loaded in Prometheus. */
  applied: string | undefined;

  constructor(options: RuleApplierOptions) {
    this.#o = options;
    this.#interval = options.intervalMs ?? 30_000;
    if (!(this.#interval >= 100))
      throw new RangeError(`Cannot apply alert rules: intervalMs must be ≥ 100, got ${this.#interval}`);
    this.#prometheus = options.prometheus;
    this.#log = (options.logger ?? silentLogger).child({ component: 'alert-rules' });
  }

  start(): this {
    void this.kick();
    this.#timer = setInterval(() => void this.kick(), this.#interval);
    this.#timer.unref();
    return this;
  }

  /** One pass now (a call while one runs makes one more after it); never throws. */
  kick(): Promise<void> {
    return this.#kick();
  }

  readonly #kick = coalescedRun(async () => {
    if (this.#stopped) return;
    const outcome = await this.#pass().catch((error: unknown) => {
      this.#log.warn({ err: toError(error) }, 'alert rules not applied; the next pass tries again');
      return 'failed' as const;
    });
    if (outcome !== undefined) this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  });

  /** Undefined when another gateway holds the lease. */
  async #pass(): Promise<ApplyOutcome | undefined> {
    const { bus, holder, db, rulesDir } = this.#o;
    const held = await bus.holdLease({
      name: RULES_LEASE,
      holder,
      ttlMs: Math.max(3 * this.#interval, 5000),
    });
    if (!held) return undefined;
    const rules = await listAlertRules(db);
    const rendered = renderRuleGroup(rules);
    const names = rules.map((r) => r.name).sort();
    const version = rulesVersion(rendered);
    const file = join(rulesDir, OPERATOR_RULES_FILE);
    const onDisk = await readFile(file, 'utf8').catch(() => undefined);
    if (onDisk === rendered && version === this.applied && (await this.#loaded(names))) return 'unchanged';
    if (onDisk !== rendered) {
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, rendered);
      await rename(tmp, file);
    }
    await this.#prometheus.reload();
    if (!(await this.#loaded(names)))
      throw new Error(`Prometheus reloaded but does not show group ${OPERATOR_GROUP} with these rules`);
    this.applied = version;
    this.#log.info({ version }, 'alert rules applied');
    return 'applied';
  }

  /** Whether Prometheus's loaded group has exactly the alerts named `want` (sorted). */
  async #loaded(want: readonly string[]): Promise<boolean> {
    const groups = await this.#prometheus.alertRuleGroups();
    const have = [...(groups.find((g) => g.name === OPERATOR_GROUP)?.alerts ?? [])].sort();
    // Prometheus lists an empty group's file not at all: none expected, none there.
    return have.length === want.length && have.every((n, i) => n === want[i]);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#kick.idle();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** `devicehub_alert_rules_applied{outcome}` from an applier's counts. */
export function alertRuleMetrics(
  registry: Registry,
  applier: { readonly outcomes: ReadonlyMap<string, number> },
): void {
  new Counter({
    name: 'devicehub_alert_rules_applied',
    help: 'Passes of the operator alert rules loop on this gateway: applied (written and reloaded), unchanged, failed',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [outcome, n] of applier.outcomes) this.inc({ outcome }, n);
    },
  });
}

/** The rules loop when the gateway knows Prometheus and its rules folder (and applyEveryMs is not 0). */
export function startRuleApplier(
  options: { rulesDir?: string; applyEveryMs?: number } | undefined,
  deps: { db: Db; bus: Bus; holder: string; logger?: Logger; prometheus: PrometheusClient | undefined },
): AlertRuleApplier | undefined {
  const { rulesDir, applyEveryMs } = options ?? {};
  const { prometheus } = deps;
  if (prometheus === undefined || rulesDir === undefined || applyEveryMs === 0) return undefined;
  return new AlertRuleApplier({
    ...deps,
    prometheus,
    rulesDir,
    ...(applyEveryMs === undefined ? {} : { intervalMs: applyEveryMs }),
  }).start();
}
