/**
 * The canonical messages an edge's actor takes, whatever the transport and format they came in
 * (the links decode legacy JSON and the compact format into these), and the tunnel requests the
 * gateway sends it. The actor's state built from them is in `edge/actor/state.ts`.
 */

/** How an edge reaches the hub; its commands go back the same way. */
export type EdgeTransport = 'mqtt' | 'kafka';

export type TelemetryKind = 'status' | 'vision' | 'heartbeat' | 'birth';

export interface TelemetryPayload {
  readonly kind: TelemetryKind;
  /** Per-edge sequence number, increasing by one per message since `boot`. */
  readonly seq?: number;
  /** Boot id: a new one resets sequence tracking (the device restarted). */
  readonly boot?: string;
  /** The device's timestamp (ms). */
  readonly ts?: number;
  readonly data?: Readonly<Record<string, unknown>>;
  /** Static facts that came with this message (legacy status repeats them every time). */
  readonly birth?: Readonly<Record<string, unknown>>;
  /** The transport it came over, set by the hub's link. */
  readonly via?: EdgeTransport;
  /**
   * Birth only: the longest the edge stays silent when all is well (a compact agent's snapshot
   * period); it goes offline after 2.5 times that instead of after EDGE_OFFLINE_AFTER_MS.
   */
  readonly silenceSeconds?: number;
}

export interface AlarmPayload {
  /** Alarm type, e.g. `trapped`, `overspeed`, `ebike`, `smoke`. */
  readonly alarm: string;
  readonly phase: 'start' | 'end';
  readonly seq?: number;
  readonly boot?: string;
  readonly ts?: number;
  readonly data?: Readonly<Record<string, unknown>>;
  readonly via?: EdgeTransport;
}

/** A command for the edge (e.g. open a tunnel): sent over its transport, tracked to a result. */
export interface CommandPayload {
  /** Unique per command; a repeated id is ignored. */
  readonly id: string;
  readonly type: string;
  readonly args?: Readonly<Record<string, unknown>>;
  /** When the command fails if the edge has not answered (ms since the epoch). */
  readonly deadline: number;
}

export interface CommandResultPayload {
  readonly id: string;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: string;
  readonly via?: EdgeTransport;
}

export type TunnelState = 'requested' | 'open' | 'closed' | 'expired' | 'failed';

export interface TunnelService {
  /** `ssh`, `camera` or `console`. */
  readonly name: string;
  /** The remote port on the tunnel server; null in multiplexed mode. */
  readonly remotePort: number | null;
  /** Multiplexed mode: the name clients ask the tunnel server's HTTP CONNECT port for. */
  readonly host?: string;
}

export interface TunnelRecord {
  readonly services: readonly TunnelService[];
  readonly state: TunnelState;
  readonly requestedAt: number;
  readonly expiresAt: number;
  /** The edge's report when it opened (e.g. its frpc's proxy names). */
  readonly opened?: unknown;
  readonly openedAt?: number;
  readonly endedAt?: number;
  readonly reason?: string;
}

export interface TunnelOpenPayload {
  readonly id: string;
  readonly services: readonly TunnelService[];
  /** When the tunnel closes by itself (ms since the epoch). */
  readonly expiresAt: number;
  /** Extra arguments for the edge's tunnel executor (server address, token, mode). */
  readonly args?: Readonly<Record<string, unknown>>;
  /** How long the edge has to report the tunnel open (default 60 s). */
  readonly openTimeoutMs?: number;
}

export interface TunnelClosePayload {
  readonly id: string;
  readonly reason?: string;
}

/** What an edge receives (JSON): on `dh/v1/<edgeId>/down`, or keyed by its id on `dh-downlink`. */
export interface DownlinkCommand {
  readonly id: string;
  readonly type: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly deadline: number;
  readonly epoch: number;
}

/** Where an edge is with one update target: the order they come in, then one of the last three. */
export const UPDATE_STATES = [
  'downloading',
  'downloaded',
  'verified',
  'installing',
  'healthy',
  'rolled_back',
  'failed',
] as const;
export type UpdateState = (typeof UPDATE_STATES)[number];

/**
 * An edge's report on one target of an update (uplink kind `update`), delivered to its actor's
 * `updateState`. `target` is the TUF target path `<kind>/<name>/<version>/<fileName>`.
 */
export interface UpdateStatePayload {
  readonly rollout: string;
  readonly target: string;
  readonly name: string;
  readonly version: string;
  readonly state: UpdateState;
  /** `downloading` only: percent of the artifact's bytes on disk, 0..100. */
  readonly progress?: number;
  /** `failed` and `rolled_back`: why, e.g. `DISK_FULL: no space left …` (UpdateError's code first). */
  readonly reason?: string;
  readonly seq?: number;
  readonly boot?: string;
  readonly ts?: number;
  readonly via?: EdgeTransport;
}

/** One artifact an `update` command installs (its TUF target, checked against signed metadata by the agent). */
export interface UpdateTarget {
  /** TUF target path `<kind>/<name>/<version>/<fileName>`. */
  readonly path: string;
  readonly name: string;
  readonly version: string;
  readonly kind: string;
  readonly sha256: string;
  readonly length: number;
}

/** The args of the `update` command (hub → edge); the agent answers it at once and reports states. */
export interface UpdateCommandArgs {
  readonly rollout: string;
  readonly targets: readonly UpdateTarget[];
  /** The agent starts its download after a random delay within this (no thundering herd), ms. */
  readonly spreadMs: number;
  /** How long the new version has to report healthy after the switch, ms. */
  readonly healthDeadlineMs: number;
  /** Install the targets as a roll back (a previous version) rather than forward. */
  readonly rollback?: boolean;
}
