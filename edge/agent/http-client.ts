/**
 * The agent's HTTP(S) client (node:http/https; Node 20's fetch takes no CA): one keep-alive agent
 * that checks the server's certificate against the CA the edge was given (the fleet CA, or the
 * operator's), and errors that say why a server was not trusted. Plain `http:` goes only to
 * loopback: off the box the edge's credentials never travel in clear. Imports nothing of the hub.
 */
import { request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { AgentError } from './errors.ts';

/** What the agent trusts and presents over TLS (PEM). No `ca`: the system's CAs. */
export interface AgentTls {
  /** The CA certificates the server's certificate must chain to (the fleet CA's `ca.crt`). */
  readonly ca?: string | Buffer;
  /** The edge's client certificate and key, when the server asks for one. */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

export interface HttpAnswer {
  readonly status: number;
  header(name: string): string | undefined;
  readonly body: string;
}

/** Certificate verification failures, by Node's (OpenSSL's) error code. */
const UNTRUSTED = /^(CERT_|ERR_TLS_CERT|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_SSL_)/;

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

/** GETs and POSTs with the edge's trust anchors; one connection kept alive between polls. */
export class AgentHttpClient {
  readonly #tls: AgentTls;
  readonly #agent: HttpsAgent;

  constructor(tls: AgentTls = {}) {
    this.#tls = tls;
    this.#agent = new HttpsAgent({ keepAlive: true, maxSockets: 4, minVersion: 'TLSv1.2', ...tls });
  }

  /** `what` names the call in errors (e.g. "configuration"). */
  async request(
    url: string,
    init: {
      what: string;
      headers: Record<string, string>;
      signal: AbortSignal;
      method?: string;
      /** A string, or bytes (a frame's JPEG). */
      body?: string | Uint8Array;
    },
  ): Promise<HttpAnswer> {
    const target = new URL(url);
    if (target.protocol === 'http:' && !LOOPBACK.test(target.hostname))
      throw new AgentError(
        'INSECURE_URL',
        `${init.what}: ${target.origin} is plain HTTP; the edge sends its credentials only over https:// (or to loopback)`,
      );
    if (target.protocol !== 'http:' && target.protocol !== 'https:')
      throw new AgentError('INSECURE_URL', `${init.what}: ${target.protocol} is not http(s)`);
    const { what, headers, signal, method = 'GET', body } = init;
    const options = { method, headers, signal };
    return await new Promise<HttpAnswer>((resolve, reject) => {
      const req =
        target.protocol === 'https:'
          ? httpsRequest(target, { ...options, agent: this.#agent })
          : httpRequest(target, options);
      req.once('error', (error: NodeJS.ErrnoException) => reject(this.#explain(error, { what, target })));
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('error', (error) => reject(this.#explain(error, { what, target })));
        res.once('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            header: (name) => {
              const value = res.headers[name.toLowerCase()];
              return Array.isArray(value) ? value.join(', ') : value;
            },
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      });
      req.end(body);
    });
  }

  #explain(error: NodeJS.ErrnoException, { what, target }: { what: string; target: URL }): Error {
    if (error.name === 'AbortError') return error;
    const code = error.code ?? '';
    if (UNTRUSTED.test(code))
      return new AgentError(
        'TLS_UNTRUSTED',
        `${what}: refused ${target.origin}: its certificate is not trusted (${code}: ${error.message}); it must chain to ${
          this.#tls.ca === undefined ? 'a system CA (set caFile to the fleet CA)' : 'the CA in caFile'
        }`,
        { cause: error },
      );
    return new AgentError('CONFIG_UNAVAILABLE', `${what}: ${target.origin} not reachable: ${error.message}`, {
      cause: error,
    });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#agent.destroy();
  }
}
