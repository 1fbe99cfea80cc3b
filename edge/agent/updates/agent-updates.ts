/**
 * The production wiring of the agent's updates: the CDN downloader (download.ts) with the fleet CA,
 * the TUF client (tuf-client.ts) on the metadata URL with the root provisioned on the device, and
 * the self-update's restart. `devicehub agent` builds it from its configuration file's `updates`.
 */
import type { Logger } from '../logger.ts';
import type { AgentUpdates } from './agent-updater.ts';
import { downloadArtifact } from './download.ts';
import { MirrorCounters } from './mirror-counters.ts';
import { openTufClient } from './tuf-client.ts';

export interface AgentUpdatesSetup {
  readonly dataDir: string;
  /** Mirrors and metadata URL until the configuration names them. */
  readonly mirrors?: readonly string[];
  readonly metadataUrl?: string;
  /** The TUF root provisioned on the device. */
  readonly rootFile?: string;
  /** The fleet CA (PEM) the mirrors' and the gateway's certificates chain to. */
  readonly ca?: string | Buffer;
  /** Self-update: how the agent stops so its supervisor starts the new one. */
  readonly restart?: () => void;
  readonly log: Logger;
}

export function agentUpdates(o: AgentUpdatesSetup): AgentUpdates {
  const counters = new MirrorCounters();
  const ca = o.ca === undefined ? {} : { ca: o.ca };
  return {
    download: (d) => downloadArtifact({ ...d, ...ca, counters, logger: o.log }),
    openTrust: (metadataUrl) =>
      openTufClient({
        metadataUrl,
        dataDir: o.dataDir,
        ...ca,
        ...(o.rootFile === undefined ? {} : { rootFile: o.rootFile }),
      }),
    ...(o.mirrors === undefined ? {} : { mirrors: o.mirrors }),
    ...(o.metadataUrl === undefined ? {} : { metadataUrl: o.metadataUrl }),
    ...(o.restart === undefined ? {} : { restart: o.restart }),
  };
}
