/**
 * How tuf-js fetches metadata on the edge: node:https with the fleet CA (Node 20's fetch takes no
 * CA), streamed so tuf-js's length limits cut a hostile mirror's endless file, with a timeout per
 * request. A status other than 200 is tuf-js's own DownloadHTTPError (a 404 for the next
 * `N.root.json` is how it learns the root is current). Imports nothing of the hub.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { BaseFetcher } from 'tuf-js';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';

export interface MetadataFetcherOptions {
  /** The CA the server's certificate must chain to (PEM; none: the system's CAs). */
  readonly ca?: string | Buffer;
  /** Per request, until the body has ended (default 30 s). */
  readonly timeoutMs?: number;
}

/** Marks a transport failure (unreachable, reset, timed out) in the message tuf-js may wrap. */
export const DOWNLOAD_FAILED_MARK = 'metadata download failed';

export class MetadataFetcher extends BaseFetcher {
  readonly #agent: HttpsAgent;
  readonly #timeoutMs: number;

  constructor(options: MetadataFetcherOptions = {}) {
    super();
    this.#agent = new HttpsAgent({
      keepAlive: true,
      maxSockets: 2,
      minVersion: 'TLSv1.2',
      ...(options.ca === undefined ? {} : { ca: options.ca }),
    });
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  override async fetch(url: string): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
    const res = await this.get(url);
    if (res.statusCode !== 200) {
      res.resume();
      throw new DownloadHTTPError(`GET ${url}: HTTP ${res.statusCode}`, res.statusCode ?? 0);
    }
    return Readable.toWeb(res) as unknown as ReadableStream<Uint8Array<ArrayBuffer>>;
  }

  /** The response to a GET of `url` (https with the CA, or plain http). */
  get(url: string): Promise<IncomingMessage> {
    const target = new URL(url);
    const signal = AbortSignal.timeout(this.#timeoutMs);
    return new Promise((resolve, reject) => {
      const fail = (error: Error) =>
        reject(
          new Error(`${DOWNLOAD_FAILED_MARK}: GET ${target.origin}${target.pathname}: ${error.message}`),
        );
      const req =
        target.protocol === 'https:'
          ? httpsRequest(target, { agent: this.#agent, signal })
          : target.protocol === 'http:'
            ? httpRequest(target, { signal })
            : undefined;
      if (req === undefined) return fail(new Error(`${target.protocol} is not http(s)`));
      req.once('error', fail);
      req.once('response', resolve);
      req.end();
    });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#agent.destroy();
  }
}
