/**
 * A lean HTTP client for the gateway benchmarks: node:http over keep-alive sockets (fetch costs
 * the load generator more CPU per request than the gateway spends answering it), and the
 * percentiles of what it measured.
 */
import { Agent, request } from 'node:http';

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** What a request carries besides its method and path. */
export interface SendOptions {
  /** Request headers; a body adds `content-type: application/json`. */
  readonly headers?: Record<string, string>;
  /** A JSON body. */
  readonly body?: string;
  /** How long to wait for the answer (default 60 s). */
  readonly timeoutMs?: number;
}

export function httpClient(base: string, maxSockets: number) {
  const url = new URL(base);
  const agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  const send = (method: string, path: string, options: SendOptions = {}) => {
    const { headers = {}, body, timeoutMs = 60_000 } = options;
    return new Promise<Reply>((resolve, reject) => {
      const req = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method,
          path,
          headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
          timeout: timeoutMs,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  };
  return { send, close: () => agent.destroy() };
}

/** p50/p95/p99/max of `values` (ms), rounded to 0.1. */
export function percentiles(values: readonly number[]): {
  p50: number;
  p95: number;
  p99: number;
  max: number;
} {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => {
    if (sorted.length === 0) return 0;
    return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10;
  };
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) };
}
