/**
 * The CDN tier of `devicehub cluster` and the demo (docs/decisions/024-cdn.md): nginx caches
 * (infra/nginx.ts) serving HTTPS with the fleet PKI's server certificate, in front of the API
 * (HTTPS, checked against the fleet CA), and the devicehub configuration's `cdn` pool naming them,
 * written through the API as an operator would: each edge's configuration then carries them,
 * ranked for it (`updates.mirrors`).
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import type { Logger } from '../actors/mod.ts';
import { type NginxServer, startNginxCache } from '../infra/mod.ts';

export interface CdnCaches {
  /** `https://127.0.0.1:<port>` of each cache, cdn-1 first. */
  readonly urls: string[];
  /** The nginx processes (their access logs say HIT or MISS). */
  readonly servers: readonly NginxServer[];
  stop(): Promise<void>;
}

/** `count` caches in front of `origin`, each in `<dir>/cdn-<i>`. */
export async function startCdnCaches(o: {
  origin: string;
  caFile: string;
  tls: { readonly certFile: string; readonly keyFile: string };
  dir: string;
  count?: number;
  logger?: Logger;
}): Promise<CdnCaches> {
  const caches: NginxServer[] = [];
  try {
    for (let i = 1; i <= (o.count ?? 2); i++) {
      caches.push(
        await startNginxCache({
          origin: o.origin,
          originCa: o.caFile,
          // The gateways' certificate names localhost and 127.0.0.1; nginx checks names, not IPs.
          originServerName: 'localhost',
          dir: join(o.dir, `cdn-${i}`),
          tls: o.tls,
          maxSize: '2g',
          ...(o.logger === undefined ? {} : { logger: o.logger }),
        }),
      );
    }
  } catch (error) {
    await Promise.all(caches.map((c) => c.stop()));
    throw error;
  }
  return {
    urls: caches.map((c) => c.url),
    servers: caches,
    stop: async () => void (await Promise.all(caches.map((c) => c.stop()))),
  };
}

/**
 * Writes `cdn: { mirrors: cdn-1…, metadataUrl }` into the devicehub configuration's global
 * document through the API (its other keys kept; If-Match the version read).
 */
export async function configureCdnPool(o: {
  api: string;
  adminKey: string;
  caFile: string;
  mirrors: readonly string[];
}): Promise<void> {
  const ca = readFileSync(o.caFile);
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        `${o.api}${path}`,
        {
          method,
          ca,
          headers: { authorization: `Bearer ${o.adminKey}`, 'content-type': 'application/json', ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  const history = await call('GET', '/v1/config/devicehub/global/history');
  if (history.status !== 200)
    throw new Error(`Cannot read the devicehub configuration: HTTP ${history.status} ${history.body}`);
  const [current] = (
    JSON.parse(history.body) as { versions: { version: number; body: Record<string, unknown> }[] }
  ).versions;
  const cdn = {
    mirrors: o.mirrors.map((url, i) => ({ id: `cdn-${i + 1}`, url, weight: 1 })),
    metadataUrl: `${o.api}/v1/tuf/metadata`,
  };
  const put = await call(
    'PUT',
    '/v1/config/devicehub/global',
    { ...current?.body, cdn },
    {
      'if-match': `"${current?.version ?? 0}"`,
    },
  );
  if (put.status !== 200) throw new Error(`Cannot write the cdn pool: HTTP ${put.status} ${put.body}`);
}

/**
 * The demo's two caches in ./.devicehub/cdn in front of its gateway, named by the cdn pool; the
 * demo runs on without them (no nginx installed), saying why.
 */
export async function startDemoCdn(o: {
  gateway: { readonly url: string; readonly adminKey: string; readonly caFile: string };
  tls: { readonly certFile: string; readonly keyFile: string };
  dir: string;
  logger?: Logger;
}): Promise<CdnCaches | undefined> {
  try {
    const caches = await startCdnCaches({
      origin: o.gateway.url,
      caFile: o.gateway.caFile,
      tls: o.tls,
      dir: o.dir,
      ...(o.logger === undefined ? {} : { logger: o.logger }),
    });
    await configureCdnPool({ ...o.gateway, api: o.gateway.url, mirrors: caches.urls }).catch(
      async (error: unknown) => {
        await caches.stop();
        throw error;
      },
    );
    return caches;
  } catch (error) {
    o.logger?.error({ err: error }, 'CDN caches not started');
    process.stderr.write(
      `CDN caches not started: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return undefined;
  }
}
