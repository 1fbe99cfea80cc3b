/**
 * The agent's updater: one job at a time, each an `update` command's targets installed together
 * into the slot that does not run, then one switch and one health gate. Every phase is in the
 * journal before the next begins, so a restart goes on from it (journal.ts): a download resumes,
 * an install is rolled back, a switch goes on with its health gate. States go to the hub through
 * the uplink kind `update`: downloading(progress) → downloaded → verified → installing → healthy |
 * rolled_back | failed(reason). The agent itself (`devicehub-agent`) updates the same way, ending
 * in a restart by its supervisor (self-update.ts).
 */
import { rm } from 'node:fs/promises';
import type { UpdateCommandArgs, UpdateReport, UpdateState, UpdateTarget } from '../../protocol/mod.ts';
import type { Logger } from '../logger.ts';
import { reasonOf, UpdateError } from './errors.ts';
import {
  type Downloader,
  downloadPath,
  downloadTarget,
  type TrustedTargets,
  verifyTarget,
} from './fetch-target.ts';
import { feedingNow, type HealthSignals, healthGate } from './health-gate.ts';
import { ensureFree, installPackage } from './install.ts';
import { type Job, Journal } from './journal.ts';
import { confirmBoot, SELF_PACKAGE, startBootTrial } from './self-update.ts';
import { otherSlot, Slots } from './slots.ts';

export interface UpdaterOptions {
  readonly dataDir: string;
  /** Sends one state report (the uplink kind `update`, QoS 1, kept on disk until the broker has it). */
  readonly report: (report: UpdateReport) => void;
  readonly download: Downloader;
  /** The edge's ranked CDN mirrors now (its configuration's `updates.mirrors`). */
  readonly mirrors: () => readonly string[];
  /** Opens the TUF client; undefined (or none given): no metadata URL, the command's hashes are trusted. */
  readonly trust?: () => Promise<TrustedTargets | undefined>;
  readonly health: () => HealthSignals;
  /** Self-update: stop so the supervisor starts the agent again (from the new `current`). */
  readonly restart?: () => void;
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly gatePollMs?: number;
}

export class Updater {
  readonly #o: UpdaterOptions;
  readonly #slots: Slots;
  readonly #journal: Journal;
  #running: { rollout: string; done: Promise<void> } | undefined;

  constructor(options: UpdaterOptions) {
    this.#o = options;
    this.#slots = new Slots(options.dataDir);
    this.#journal = new Journal(options.dataDir);
  }

  get slots(): Slots {
    return this.#slots;
  }

  /** The job in progress (undefined when idle); resolves when it ends. */
  get running(): Promise<void> | undefined {
    return this.#running?.done;
  }

  /**
   * Takes an `update` command: starts its job and returns at once (the command's answer). The
   * same rollout again is accepted and not started twice; another while one runs is BUSY.
   */
  async accept(args: UpdateCommandArgs): Promise<{ accepted: true; rollout: string }> {
    if (this.#running !== undefined) {
      if (this.#running.rollout === args.rollout) return { accepted: true, rollout: args.rollout };
      throw new UpdateError('BUSY', `rollout ${this.#running.rollout} is being installed`);
    }
    const last = await this.#journal.read();
    if (last?.args.rollout === args.rollout && last.phase === 'done') {
      const { state, reason } = last.outcome ?? { state: 'failed' as const };
      for (const t of args.targets)
        this.#report(args.rollout, t, state, reason === undefined ? {} : { reason });
      return { accepted: true, rollout: args.rollout };
    }
    const from = await this.#slots.current();
    const job: Job = { args, phase: 'downloading', from, to: otherSlot(from) };
    await this.#journal.write(job);
    this.#start(job, { fresh: true });
    return { accepted: true, rollout: args.rollout };
  }

  /** After a start: goes on with the job the journal holds, if one was under way. */
  async resume(): Promise<void> {
    const job = await this.#journal.read();
    if (job === undefined || job.phase === 'done') return;
    this.#o.log.info({ rollout: job.args.rollout, phase: job.phase }, 'resuming the update job');
    this.#start(job, { fresh: false });
  }

  #start(job: Job, o: { fresh: boolean }): void {
    const done = this.#run(job, o)
      .catch((err: unknown) => this.#o.log.error({ err }, 'update job failed unexpectedly'))
      .finally(() => {
        if (this.#running?.done === done) this.#running = undefined;
      });
    this.#running = { rollout: job.args.rollout, done };
  }

  #report(
    rollout: string,
    t: UpdateTarget,
    state: UpdateState,
    extra: { progress?: number; reason?: string } = {},
  ): void {
    this.#o.report({ rollout, target: t.path, name: t.name, version: t.version, state, ...extra });
  }

  async #run(start: Job, o: { fresh: boolean }): Promise<void> {
    let job = start;
    const { targets } = job.args;
    try {
      if (job.phase === 'downloading') job = await this.#fetch(job, o.fresh);
      if (job.phase === 'installing') return await this.#rollBackInstall(job);
      if (job.phase === 'verified') job = await this.#install(job);
      if (job.phase !== 'switched') return;
      if (o.fresh && targets.some((t) => t.name === SELF_PACKAGE)) {
        this.#o.log.info({ slot: job.to }, 'the agent was installed into the other slot; restarting into it');
        this.#o.restart?.();
        return;
      }
      await this.#gate(job);
    } catch (error) {
      if (this.#o.signal.aborted) return; // stopping: the journal resumes it at the next start
      const reason = reasonOf(error);
      this.#o.log.warn({ rollout: job.args.rollout, reason }, 'update failed; the running slot is kept');
      if ((await this.#slots.current()) === job.from) await this.#slots.clear(job.to).catch(() => undefined);
      await this.#finish(job, 'failed', reason);
    }
  }

  async #fetch(job: Job, fresh: boolean): Promise<Job> {
    const { args } = job;
    const trust = this.#o.trust === undefined ? undefined : await this.#o.trust();
    try {
      await trust?.refresh();
      await this.#download(job, trust, fresh);
    } finally {
      trust?.close?.();
    }
    for (const t of args.targets) {
      await verifyTarget(t, { dir: this.#journal.dir });
      this.#report(args.rollout, t, 'verified');
    }
    const next: Job = { ...job, phase: 'verified' };
    await this.#journal.write(next);
    return next;
  }

  async #download(job: Job, trust: TrustedTargets | undefined, fresh: boolean): Promise<void> {
    const { args } = job;
    for (const t of args.targets) {
      let step = -1;
      this.#report(args.rollout, t, 'downloading', { progress: 0 });
      await downloadTarget(t, {
        dir: this.#journal.dir,
        download: this.#o.download,
        mirrors: this.#o.mirrors(),
        trust,
        spreadMs: fresh && t === args.targets[0] ? args.spreadMs : 0,
        signal: this.#o.signal,
        onProgress: (percent) => {
          if (Math.floor(percent / 10) <= step || percent >= 100) return;
          step = Math.floor(percent / 10);
          this.#report(args.rollout, t, 'downloading', { progress: percent });
        },
      });
      this.#report(args.rollout, t, 'downloaded');
    }
  }

  /** Installs into the other slot, switches to it: the journal says `installing` until the switch is made. */
  async #install(job: Job): Promise<Job> {
    const { targets } = job.args;
    const bytes = targets.reduce((sum, t) => sum + t.length, 0);
    await ensureFree(this.#slots.root, bytes, `installing ${targets.length} package(s) into slot ${job.to}`);
    const installing: Job = { ...job, phase: 'installing' };
    await this.#journal.write(installing);
    for (const t of targets) this.#report(job.args.rollout, t, 'installing');
    await this.#slots.prepare(job.from, job.to);
    for (const t of targets) {
      await installPackage(t, downloadPath(this.#journal.dir, t), {
        slotDir: this.#slots.dir(job.to),
        signal: this.#o.signal,
      });
      await this.#slots.setVersion(job.to, t.name, t.version);
    }
    const now = Date.now();
    const switched: Job = {
      ...job,
      phase: 'switched',
      switchedAt: now,
      deadline: now + job.args.healthDeadlineMs,
      feeding: feedingNow(this.#o.health(), now),
    };
    if (targets.some((t) => t.name === SELF_PACKAGE)) await startBootTrial(this.#slots.root, job.from);
    await this.#slots.switchTo(job.to);
    await this.#journal.write(switched);
    this.#o.log.info({ from: job.from, to: job.to }, 'switched slots; health gate open');
    return switched;
  }

  /** A restart found the install unfinished: the running slot stays (or is switched back to). */
  async #rollBackInstall(job: Job): Promise<void> {
    if ((await this.#slots.current()) !== job.from) await this.#slots.switchTo(job.from);
    await this.#slots.clear(job.to);
    await confirmBoot(this.#slots.root);
    const reason = new UpdateError(
      'INTERRUPTED',
      `the agent restarted while installing; slot ${job.from} kept`,
    );
    await this.#finish(job, 'rolled_back', reasonOf(reason));
  }

  async #gate(job: Job): Promise<void> {
    if ((await this.#slots.current()) !== job.to) {
      // The supervisor went back: the new agent did not come up (self-update.ts).
      const reason = new UpdateError(
        'HEALTH_TIMEOUT',
        `the new version did not start; slot ${job.from} runs again`,
      );
      return await this.#finish(job, 'rolled_back', reasonOf(reason));
    }
    try {
      await healthGate(this.#o.health, {
        targets: job.args.targets,
        feeding: job.feeding ?? [],
        switchedAt: job.switchedAt ?? 0,
        deadline: job.deadline ?? 0,
        signal: this.#o.signal,
        ...(this.#o.gatePollMs === undefined ? {} : { pollMs: this.#o.gatePollMs }),
      });
    } catch (error) {
      if (!(error instanceof UpdateError)) throw error;
      await this.#slots.switchTo(job.from);
      await confirmBoot(this.#slots.root);
      this.#o.log.warn(
        { from: job.to, to: job.from, reason: error.message },
        'not healthy in time; switched back',
      );
      await this.#finish(job, 'rolled_back', reasonOf(error));
      if (job.args.targets.some((t) => t.name === SELF_PACKAGE)) this.#o.restart?.();
      return;
    }
    await confirmBoot(this.#slots.root);
    await this.#finish(job, 'healthy');
  }

  /** Ends the job: journal, downloads removed, the updater free for the next — then the states go out. */
  async #finish(job: Job, state: 'healthy' | 'rolled_back' | 'failed', reason?: string): Promise<void> {
    await this.#journal.write({ ...job, phase: 'done', outcome: { state, ...(reason ? { reason } : {}) } });
    // The downloads are in the slot now (or not wanted): their space goes back to the disk.
    for (const t of job.args.targets) {
      const file = downloadPath(this.#journal.dir, t);
      for (const f of [file, `${file}.part`]) await rm(f, { force: true }).catch(() => undefined);
    }
    if (this.#running?.rollout === job.args.rollout) this.#running = undefined;
    for (const t of job.args.targets)
      this.#report(job.args.rollout, t, state, reason === undefined ? {} : { reason });
  }
}
