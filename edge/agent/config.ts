/**
 * The agent's configuration: polled from the configuration service
 * (`GET /v1/config/edge/{edgeId}`, the gateway's `gateway/routes/config.ts`) with its own
 * credentials and If-None-Match, long-polled (`?wait=`) once it has a version, so a change
 * reaches the edge at once. Over HTTPS, the service's certificate checked against the CA the edge
 * trusts (http-client.ts).
 */
import { type DeliveredCredentials, edgeAuthorization } from './credentials.ts';
import { AgentError } from './errors.ts';
import { AgentHttpClient, type AgentTls } from './http-client.ts';
import type { EdgeLogsConfig } from './log-settings.ts';
import type { BrokerConfig } from './uplink.ts';

/** What `GET /v1/config/edge/{edgeId}` returns (the gateway, `gateway/routes/config.ts`). */
export interface EdgeConfig {
  readonly version?: number;
  /** After a rotation: its version, and the new secret while it waits for this edge. */
  readonly credentials?: DeliveredCredentials;
  readonly broker?: BrokerConfig;
  readonly snapshotSeconds?: number;
  readonly healthSeconds?: number;
  /** Updates: the CDN mirrors ranked for this edge (rendezvous) and the TUF metadata's base URL. */
  readonly updates?: { readonly mirrors?: readonly string[]; readonly metadataUrl?: string };
  /** Log shipping: level, files, budget, a temporary level until a time (docs/decisions/038). */
  readonly logs?: EdgeLogsConfig;
}

export interface ConfigPollerOptions {
  readonly configUrl?: string;
  readonly edgeId: string;
  /** The edge's secret, or where to read it now (it changes when a rotation is adopted). */
  readonly password: string | (() => string);
  /** How long the service may hold a poll (seconds; 0: no long-polling). */
  readonly longPollSeconds: number;
  /** Aborts a poll in flight when the agent stops. */
  readonly signal: AbortSignal;
  /** The CA the service's certificate must chain to (the fleet CA); none: the system's CAs. */
  readonly configTls?: AgentTls;
}

export class ConfigPoller {
  readonly #o: ConfigPollerOptions;
  #etag: string | undefined;
  #config: EdgeConfig | undefined;
  readonly #http: AgentHttpClient;

  constructor(options: ConfigPollerOptions) {
    this.#o = options;
    this.#http = new AgentHttpClient(options.configTls);
    options.signal.addEventListener('abort', () => this.#http.close(), { once: true });
  }

  /** The last configuration received (undefined before the first). */
  get config(): EdgeConfig | undefined {
    return this.#config;
  }

  /** Polls once (`hold: false`: answered at once): the new configuration, or undefined when it has not changed (304). */
  async poll(options: { hold?: boolean } = {}): Promise<EdgeConfig | undefined> {
    const { configUrl, edgeId } = this.#o;
    const password = typeof this.#o.password === 'string' ? this.#o.password : this.#o.password();
    const wait = this.#etag === undefined || options.hold === false ? 0 : this.#o.longPollSeconds;
    const url = `${configUrl}/v1/config/edge/${encodeURIComponent(edgeId)}${wait > 0 ? `?wait=${wait}` : ''}`;
    const headers: Record<string, string> = {
      authorization: edgeAuthorization(edgeId, password),
    };
    if (this.#etag) headers['if-none-match'] = this.#etag;
    const response = await this.#http.request(url, {
      what: 'configuration',
      headers,
      signal: AbortSignal.any([this.#o.signal, AbortSignal.timeout((wait + 10) * 1000)]),
    });
    if (response.status === 304) return undefined;
    if (response.status < 200 || response.status > 299)
      throw new AgentError(
        'CONFIG_UNAVAILABLE',
        `configuration: HTTP ${response.status} from ${url}${reasonOf(response.body)}`,
      );
    const config = JSON.parse(response.body) as EdgeConfig;
    this.#etag = response.header('etag');
    this.#config = config;
    return config;
  }
}

/** The service's `{"error":{code,message}}`, as `: CODE message` (nothing when there is none). */
function reasonOf(body: string): string {
  try {
    const { error } = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    return error === undefined ? '' : `: ${String(error.code)} ${String(error.message)}`.slice(0, 300);
  } catch {
    return '';
  }
}
