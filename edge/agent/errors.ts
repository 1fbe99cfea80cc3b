/**
 * Typed errors of the on-device agent. Each carries a stable `code` and says whether trying again
 * can help (terminal: the same command or configuration fails again; retryable: it may not).
 * Imports nothing, so the agent's module graph stays free of hub modules.
 */
export type AgentErrorCode =
  /** A tunnel command whose expiry has passed (terminal). */
  | 'TUNNEL_EXPIRED'
  /** Neither the command nor the configuration names a tunnel server (terminal). */
  | 'NO_TUNNEL_SERVER'
  /** A tunnel server that is not host:port (terminal). */
  | 'BAD_TUNNEL_SERVER'
  /** A tunnel to a service this edge does not have (terminal). */
  | 'UNKNOWN_SERVICE'
  /** A tunnel service with neither a remote port nor a multiplexed name (terminal). */
  | 'BAD_SERVICE'
  /** The configuration service answered with an error status (retryable: the agent polls again). */
  | 'CONFIG_UNAVAILABLE'
  /** A command without an id or a type (terminal: it is ignored). */
  | 'UNREADABLE_COMMAND'
  /** The broker refused the downlink subscription (retryable: the agent tries again, with backoff). */
  | 'DOWNLINK_REFUSED'
  /**
   * The broker took a QoS 1 message but had nobody to give it to (PUBACK reason 0x10: no hub link
   * subscribed, e.g. just after a broker restart): kept and sent again (retryable).
   */
  | 'NO_SUBSCRIBERS'
  /** The hub did not sign the edge's renewal CSR (retryable: the certificate still works; tried again later). */
  | 'RENEWAL_REFUSED'
  /** A server whose TLS certificate does not chain to the CA the edge trusts (terminal until certificates change). */
  | 'TLS_UNTRUSTED'
  /** A plain-HTTP URL off the box: the edge's credentials would travel in clear (terminal). */
  | 'INSECURE_URL';

const RETRYABLE: ReadonlySet<AgentErrorCode> = new Set([
  'CONFIG_UNAVAILABLE',
  'DOWNLINK_REFUSED',
  'NO_SUBSCRIBERS',
  'RENEWAL_REFUSED',
]);

export class AgentError extends Error {
  readonly code: AgentErrorCode;
  readonly retryable: boolean;
  constructor(code: AgentErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'AgentError';
    this.code = code;
    this.retryable = RETRYABLE.has(code);
  }
}
