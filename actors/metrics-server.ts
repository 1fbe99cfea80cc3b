/**
 * A worker process's own Prometheus endpoint (`devicehub clips|recognize --metrics-port`):
 * GET/HEAD /metrics answers `collect()`'s text, 404 elsewhere, 500 (logged) if it throws.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Logger, silentLogger } from './logger.ts';

export interface MetricsServer extends AsyncDisposable {
  /** `http://host:port/metrics`. */
  readonly url: string;
  close(): Promise<void>;
}

export interface MetricsServerOptions {
  /** 0 (the default): a free one. */
  readonly port?: number;
  readonly host?: string;
  readonly collect: () => Promise<string> | string;
  readonly logger?: Logger;
  /** Whose metrics, for the log line of a failed collection ("clip", "recognition"). */
  readonly what: string;
}

/** Serves `collect()` at /metrics until closed. */
export async function serveMetrics(o: MetricsServerOptions): Promise<MetricsServer> {
  const { port = 0, host = '127.0.0.1', logger = silentLogger } = o;
  const server = createServer((req, res) => {
    if ((req.url ?? '/').split('?')[0] !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    Promise.resolve()
      .then(o.collect)
      .then(
        (text) =>
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text),
        (err: unknown) => {
          logger.warn({ err }, `${o.what} metrics collection failed`);
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
        },
      );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  const shown = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return { url: `http://${shown}:${bound.port}/metrics`, close, [Symbol.asyncDispose]: close };
}
