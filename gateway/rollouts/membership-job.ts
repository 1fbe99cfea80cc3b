/**
 * Dynamic groups: every 30 s, one gateway in the cluster (the named lease `rollout-membership`)
 * looks at each rollout not finished, finds the edges that match its rule now (new registrations,
 * label changes, a version reported since) and were never sent, and sends them as `join` (the
 * actor places each in the current wave or a later one). Edges that stop matching stay members:
 * a rollout does not drop an edge half-way. A rollout whose actor says it ended is finished here.
 */
import { type Logger, silentLogger } from '../../actors/mod.ts';
import { type Bus, toError } from '../../bus/mod.ts';
import type { Db } from '../db/database.ts';
import { type LeasedJob, startLeasedJob } from '../leased-job.ts';
import { type MembershipRule, resolveMembers } from './create.ts';
import { sendMembers } from './members-send.ts';
import { toMember } from './membership.ts';
import { activeRollouts, FINAL_STATUSES, memberIds, type RolloutRow, recordStatus } from './store.ts';
import { readRolloutState } from './view.ts';

/** The named lease (bus/keys.ts builds its key) that makes one gateway run the job. */
export const MEMBERSHIP_LEASE = 'rollout-membership';

export interface MembershipJobOptions {
  readonly db: Db;
  readonly bus: Bus;
  /** This gateway's name in the cluster's leases. */
  readonly holder: string;
  readonly logger?: Logger;
  /** Between passes (default 30 s). */
  readonly intervalMs?: number;
}

export class RolloutMembershipJob implements AsyncDisposable {
  readonly #o: MembershipJobOptions;
  readonly #log: Logger;
  #job: LeasedJob | undefined;
  /** Edges sent as `join`, all passes. */
  joined = 0;

  constructor(options: MembershipJobOptions) {
    this.#o = options;
    this.#log = (options.logger ?? silentLogger).child({ component: 'rollout-membership' });
  }

  start(): this {
    this.#job = startLeasedJob({
      bus: this.#o.bus,
      lease: MEMBERSHIP_LEASE,
      holder: this.#o.holder,
      intervalMs: this.#o.intervalMs ?? 30_000,
      run: () => this.pass(),
      onError: (err) => this.#log.warn({ err }, 'rollout membership pass failed; the next one tries again'),
    });
    return this;
  }

  /** One pass over the rollouts not finished; the edges sent as `join`. */
  async pass(): Promise<number> {
    let sent = 0;
    for (const row of await activeRollouts(this.#o.db)) {
      try {
        sent += await this.#update(row);
      } catch (error) {
        this.#log.warn({ err: toError(error), rollout: row.id }, 'rollout membership not updated');
      }
    }
    this.joined += sent;
    return sent;
  }

  async #update(row: RolloutRow): Promise<number> {
    const { db, bus } = this.#o;
    const state = await readRolloutState(bus, row.id);
    if (state !== undefined && state.status !== row.status) await recordStatus(db, row.id, state.status);
    if (state !== undefined && FINAL_STATUSES.includes(state.status)) return 0;
    const rule = (row.request as { rule?: MembershipRule }).rule ?? { filter: row.filter };
    const [matches, known] = await Promise.all([resolveMembers({ db, bus }, rule), memberIds(db, row.id)]);
    const fresh = matches
      .filter((m) => !known.has(m.row.id))
      .map((m) => toMember(m, row.configVersion !== null));
    if (fresh.length === 0) return 0;
    await sendMembers({ db, bus }, row.id, fresh);
    this.#log.info({ rollout: row.id, joined: fresh.length }, 'edges joined a rollout');
    return fresh.length;
  }

  async stop(): Promise<void> {
    await this.#job?.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
