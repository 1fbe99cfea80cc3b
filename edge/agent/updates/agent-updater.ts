/**
 * The updater as the agent runs it: its reports sent as the uplink kind `update`, its health read
 * from the agent (broker connection, local input), its mirrors from the configuration, and the
 * `update` command's executor, which answers at once (accepted) while the job goes on.
 */
import type { CompactMessage } from '../../protocol/mod.ts';
import type { CommandExecutor } from '../commands.ts';
import type { EdgeConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Downloader, TrustedTargets } from './fetch-target.ts';
import type { HealthSignals } from './health-gate.ts';
import { parseUpdateArgs } from './update-command.ts';
import { Updater } from './updater.ts';

/** What the agent is given to take updates. */
export interface AgentUpdates {
  /** The CDN downloader (download.ts `downloadArtifact`). */
  readonly download: Downloader;
  /** Opens the TUF client (tuf-client.ts `openTufClient`) on a metadata URL. */
  readonly openTrust?: (metadataUrl: string) => Promise<TrustedTargets>;
  /** Mirrors and the metadata URL until the configuration names them. Without a metadata URL the hub's command is trusted. */
  readonly mirrors?: readonly string[];
  readonly metadataUrl?: string;
  /** Self-update: stop so the supervisor starts the agent again (the CLI sends itself SIGTERM). */
  readonly restart?: () => void;
  /** How often the health gate looks (default 200 ms). */
  readonly gatePollMs?: number;
}

export function agentUpdater(
  options: { readonly dataDir: string; readonly updates?: AgentUpdates },
  parts: {
    send: (message: CompactMessage) => void;
    health: () => HealthSignals;
    config: () => EdgeConfig['updates'];
    log: Logger;
    signal: AbortSignal;
  },
): Updater | undefined {
  const u = options.updates;
  if (u === undefined) return undefined;
  return new Updater({
    dataDir: options.dataDir,
    report: (r) => parts.send({ kind: 'update', seq: 0, ts: Date.now(), ...r }),
    download: u.download,
    mirrors: () => parts.config()?.mirrors ?? u.mirrors ?? [],
    trust: async () => {
      const url = parts.config()?.metadataUrl ?? u.metadataUrl;
      return url === undefined || u.openTrust === undefined ? undefined : await u.openTrust(url);
    },
    health: parts.health,
    ...(u.restart === undefined ? {} : { restart: u.restart }),
    ...(u.gatePollMs === undefined ? {} : { gatePollMs: u.gatePollMs }),
    log: parts.log.child({ part: 'updates' }),
    signal: parts.signal,
  });
}

/** The `update` command: checked, accepted at once (the states follow on the uplink). */
export const updateExecutor =
  (updater: Updater): CommandExecutor =>
  async (args) =>
    await updater.accept(parseUpdateArgs(args));
