/**
 * A simulated edge's updater: what the agent does with an `update` command, with everything but
 * the install real. It answers the command at once (accepted), waits its random start delay
 * within the rollout's spread, refreshes its own TUF client (signed metadata checked: root,
 * timestamp, snapshot, targets) and takes each target's length and SHA-256 from it, downloads the
 * artifact through its ranked mirrors (HTTP, Range resume, fail-over, SHA-256 checked as it
 * arrives, and the file hashed again as the agent does before `verified`: the agent's own
 * downloadTarget and verifyTarget), then "installs" it: no slots, a short pause, and `healthy` — or,
 * for an edge told to fail, `rolled_back` (its health gate missed). Every state goes up as an
 * `update` message.
 *
 * The TUF client and the downloader are passed in (the agent's own, edge/agent/updates), one TUF
 * client per edge, opened at its first command and kept (a second rollout fetches only new metadata).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Downloader,
  downloadPath,
  downloadTarget,
  reasonOf,
  type TrustedTargets,
  verifyTarget,
} from '../agent/updates/mod.ts';
import type { DownlinkCommand, UpdateCommandArgs, UpdateReport, UpdateTarget } from '../protocol/mod.ts';

/** What the updater needs of the agent's TUF client. */
export type SimTufClient = TrustedTargets;

/** What the updater needs of the agent's downloader (edge/agent/updates/download.ts). */
export type SimDownload = Downloader;

export interface SimUpdatesOptions {
  /** Edge `edgeId`'s mirrors, best first (the agent's `updates.mirrors`). */
  readonly mirrors: (edgeId: string) => readonly string[];
  /**
   * A TUF client of its own for the edge, its data folder `dir` (the agent's `openTufClient`, which
   * retries a refresh that got no metadata itself); `onRetry` is its option of that name (counted).
   */
  readonly openTuf: (edgeId: string, dir: string, onRetry: () => void) => Promise<SimTufClient>;
  readonly download: SimDownload;
  /** Where each edge keeps its TUF metadata and its downloads (`<dataDir>/<edgeId>/`). */
  readonly dataDir: string;
  /** How long a simulated install takes before the health gate answers (default 200 ms). */
  readonly installMs?: number;
  /** Whether this edge's install of `target` in `rollout` is made to fail its health gate (default never). */
  readonly failInstall?: (edgeId: string, o: { rollout: string; target: UpdateTarget }) => boolean;
}

/** The updater's counters, for the process's reports. */
export interface SimUpdateStats {
  commands: number;
  /** Bytes downloaded and checked against their SHA-256 (and the signed length). */
  bytesVerified: number;
  /** Per rollout: the edges it commanded, and the finished ones (when each became healthy). */
  readonly rollouts: Map<string, SimRolloutStats>;
  /** Failures by reason code (the UpdateError's code, or the error's name). */
  readonly errors: Map<string, number>;
  /** The first few failures' reasons, in full. */
  readonly reasons: string[];
  /** TUF refreshes the client tried again after a network error. */
  tufRetries: number;
}

export interface SimRolloutStats {
  healthy: number;
  rolledBack: number;
  failed: number;
  healthyAt: number[];
  commanded: string[];
}

/** An edge as the updater sees it: its id, and how its messages reach the hub. */
export interface SimUpdaterEdge {
  readonly id: string;
  /** Sends an `update` state (the simulator stamps it with the edge's sequence number). */
  report(u: UpdateReport): void;
  /** Answers a command (a `result` message). */
  answer(id: string, outcome: { ok: boolean; result?: unknown; error?: string }): void;
}

export class SimUpdater {
  readonly stats: SimUpdateStats = {
    commands: 0,
    bytesVerified: 0,
    rollouts: new Map(),
    errors: new Map(),
    reasons: [],
    tufRetries: 0,
  };
  readonly #o: SimUpdatesOptions;
  readonly #tuf = new Map<string, Promise<SimTufClient>>();
  /** `<edgeId> <commandId>` taken, and `<edgeId> <rollout>` in progress: a redelivery runs once. */
  readonly #seen = new Set<string>();

  constructor(options: SimUpdatesOptions) {
    this.#o = options;
  }

  /** A command from the edge's downlink (JSON); anything but `update` is left alone. Never throws. */
  command(edge: SimUpdaterEdge, payload: Buffer): void {
    let command: DownlinkCommand;
    try {
      command = JSON.parse(payload.toString('utf8')) as DownlinkCommand;
    } catch {
      return;
    }
    if (command.type !== 'update' || this.#seen.has(`${edge.id} ${command.id}`)) return;
    this.#seen.add(`${edge.id} ${command.id}`);
    const args = command.args as unknown as UpdateCommandArgs;
    if (typeof args?.rollout !== 'string' || !Array.isArray(args.targets)) {
      edge.answer(command.id, { ok: false, error: 'update: args need rollout and targets' });
      return;
    }
    edge.answer(command.id, { ok: true, result: { accepted: true } });
    const running = `${edge.id} ${args.rollout} ${args.rollback === true}`;
    if (this.#seen.has(running)) return;
    this.#seen.add(running);
    this.stats.commands++;
    this.#rollout(args.rollout).commanded.push(edge.id);
    void this.#run(edge, args).finally(() => this.#seen.delete(running));
  }

  async #run(edge: SimUpdaterEdge, args: UpdateCommandArgs): Promise<void> {
    await sleep(Math.random() * Math.max(0, args.spreadMs));
    for (const target of args.targets) {
      const report = (state: UpdateReport['state'], extra: { progress?: number; reason?: string } = {}) =>
        edge.report({
          rollout: args.rollout,
          target: target.path,
          name: target.name,
          version: target.version,
          state,
          ...extra,
        });
      try {
        await this.#install(edge, args, target, report);
      } catch (error) {
        const reason = reasonOf(error);
        const code = reason.slice(0, reason.indexOf(':'));
        this.stats.errors.set(code, (this.stats.errors.get(code) ?? 0) + 1);
        if (this.stats.reasons.length < 5) this.stats.reasons.push(`${edge.id}: ${reason}`);
        this.#rollout(args.rollout).failed++;
        report('failed', { reason: reason.slice(0, 200) });
        return;
      }
    }
  }

  async #install(
    edge: SimUpdaterEdge,
    args: UpdateCommandArgs,
    target: UpdateTarget,
    report: (state: UpdateReport['state'], extra?: { progress?: number; reason?: string }) => void,
  ): Promise<void> {
    const dir = join(this.#o.dataDir, edge.id);
    const tuf = await this.#tufOf(edge.id, dir);
    report('downloading', { progress: 0 });
    await tuf.refresh();
    const dest = downloadPath(dir, target);
    let half = false;
    try {
      // The command's hash and length checked against the signed ones, then the download.
      await downloadTarget(target, {
        dir,
        download: this.#o.download,
        mirrors: this.#o.mirrors(edge.id),
        trust: tuf,
        spreadMs: 0,
        signal: NEVER,
        onProgress: (percent) => {
          if (half || percent < 50) return;
          half = true;
          report('downloading', { progress: 50 });
        },
      });
      // As the agent does before `verified`: the file on disk hashed again.
      await verifyTarget(target, { dir });
      this.stats.bytesVerified += target.length;
    } finally {
      rmSync(dest, { force: true });
      rmSync(`${dest}.part`, { force: true });
    }
    report('downloaded');
    report('verified');
    report('installing');
    await sleep(this.#o.installMs ?? 200);
    const finished = this.#rollout(args.rollout);
    if (this.#o.failInstall?.(edge.id, { rollout: args.rollout, target }) === true) {
      finished.rolledBack++;
      report('rolled_back', { reason: 'HEALTH_TIMEOUT: the new version did not report healthy (injected)' });
      return;
    }
    finished.healthy++;
    finished.healthyAt.push(Date.now());
    report('healthy');
  }

  #tufOf(edgeId: string, dir: string): Promise<SimTufClient> {
    let tuf = this.#tuf.get(edgeId);
    if (tuf === undefined) {
      mkdirSync(dir, { recursive: true });
      tuf = this.#o.openTuf(edgeId, dir, () => this.stats.tufRetries++);
      tuf.catch(() => this.#tuf.delete(edgeId));
      this.#tuf.set(edgeId, tuf);
    }
    return tuf;
  }

  #rollout(rollout: string): SimRolloutStats {
    let r = this.stats.rollouts.get(rollout);
    if (r === undefined) {
      r = { healthy: 0, rolledBack: 0, failed: 0, healthyAt: [], commanded: [] };
      this.stats.rollouts.set(rollout, r);
    }
    return r;
  }
}

/** The simulated edges' downloads are never cancelled. */
const NEVER = new AbortController().signal;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
