/**
 * Runs Debian's nginx (`/usr/sbin/nginx`, nginx-light: it has the slice module) as an
 * unprivileged foreground process on a free loopback port, everything (config, pid, temp folders,
 * cache, logs) under its own folder: a CDN cache in front of the artifact origin
 * (`startNginxCache`, nginx-conf.ts's `cacheConf`) or a static origin serving files by their
 * SHA-256 (`startNginxOrigin`). Both log one JSON line per request (`accessLog()` parses them):
 * the cache's `cache` field is $upstream_cache_status, an origin's lines count its bytes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../actors/mod.ts';
import { freePort } from './free-port.ts';
import { cacheConf, type NginxPaths, staticOriginConf } from './nginx-conf.ts';
import { type ServerProcess, startServerProcess, withControls } from './server-process.ts';

/** One request as nginx logged it (ACCESS_LOG_FORMAT). */
export interface NginxLogEntry {
  readonly status: number;
  /** Body bytes sent to the client. */
  readonly bytes: number;
  /** $upstream_cache_status (HIT, MISS, …; empty on an origin). */
  readonly cache: string;
  readonly range: string;
  readonly uri: string;
}

export interface NginxServer extends ServerProcess, AsyncDisposable {
  /** `http(s)://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly accessLogFile: string;
  readonly errorLogFile: string;
  /** The requests logged so far. */
  accessLog(): NginxLogEntry[];
}

interface CommonOptions {
  readonly port?: number;
  /** Its own folder (created): config, pid, temp paths, cache and logs. */
  readonly dir: string;
  /** Serve HTTPS with this certificate (none: plain HTTP). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  readonly logger?: Logger;
}

export interface NginxCacheOptions extends CommonOptions {
  /** `http(s)://host:port` of the artifact origin. */
  readonly origin: string;
  /** The CA an HTTPS origin's certificate must chain to (the fleet CA). */
  readonly originCa?: string;
  /** The name its certificate must carry, when the origin is an IP address (e.g. `localhost`). */
  readonly originServerName?: string;
  /** The cache's size on disk (nginx's size syntax, default `10g`). */
  readonly maxSize?: string;
}

export interface NginxOriginOptions extends CommonOptions {
  /** The folder whose file `<sha256>` is `/v1/artifacts/<sha256>/content`. */
  readonly root: string;
}

/** The nginx binary, or a message saying how to install it. */
export function nginxBinary(): string {
  for (const candidate of ['/usr/sbin/nginx', 'nginx']) {
    if (spawnSync(candidate, ['-v'], { encoding: 'utf8' }).error === undefined) return candidate;
  }
  throw new Error(
    'Cannot start nginx: /usr/sbin/nginx was not found. Run `sh infra/provision.sh` (apt-get install nginx-light as root).',
  );
}

/** A CDN cache in front of `origin` (see nginx-conf.ts's `cdnLocation`). */
export async function startNginxCache(options: NginxCacheOptions): Promise<NginxServer> {
  if (!/^https?:\/\/[^/]+\/?$/.test(options.origin))
    throw new Error(
      `Cannot start the nginx cache: origin must be http(s)://host:port, got ${options.origin}`,
    );
  return await startNginx('nginx cache', options, (paths) =>
    cacheConf({
      ...paths,
      origin: options.origin,
      ...(options.originCa === undefined ? {} : { originCa: options.originCa }),
      ...(options.originServerName === undefined ? {} : { originServerName: options.originServerName }),
      ...(options.maxSize === undefined ? {} : { maxSize: options.maxSize }),
    }),
  );
}

/** A static artifact origin serving `<root>/<sha256>` (tests, benchmarks, a mirror with other bytes). */
export async function startNginxOrigin(options: NginxOriginOptions): Promise<NginxServer> {
  return await startNginx('nginx origin', options, (paths) =>
    staticOriginConf({ ...paths, root: options.root }),
  );
}

async function startNginx(
  name: string,
  options: CommonOptions,
  conf: (paths: NginxPaths) => string,
): Promise<NginxServer> {
  const nginx = nginxBinary();
  const port = options.port ?? (await freePort());
  const { dir } = options;
  for (const sub of ['tmp/body', 'tmp/proxy', 'tmp/fastcgi', 'tmp/uwsgi', 'tmp/scgi', 'cache'])
    mkdirSync(join(dir, sub), { recursive: true });
  const paths: NginxPaths = {
    dir,
    listen: `127.0.0.1:${port}`,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    // As root, nginx's workers would switch to `nobody`, who cannot write this folder.
    ...(process.getuid?.() === 0 ? { user: userInfo().username } : {}),
  };
  const confFile = join(dir, 'nginx.conf');
  writeFileSync(confFile, conf(paths));
  const errorLogFile = join(dir, 'error.log');
  const accessLogFile = join(dir, 'access.log');
  writeFileSync(accessLogFile, '');
  const proc = await startServerProcess({
    name,
    port,
    timeoutMs: 10_000,
    // SIGQUIT: a graceful stop (requests in flight finish); a stop that hangs is killed after 5 s.
    stopSignal: 'SIGQUIT',
    stopTimeoutMs: 5_000,
    spawnServer: () => spawn(nginx, ['-p', dir, '-c', confFile, '-e', errorLogFile], { stdio: 'ignore' }),
    describeExit: (code) => `${name} exited with ${code}: ${tail(errorLogFile)}`,
  });
  const url = `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;
  options.logger?.info({ url, dir }, `${name} started`);
  return withControls(proc, {
    url,
    port,
    dir,
    accessLogFile,
    errorLogFile,
    accessLog: () => parseAccessLog(readFileSync(accessLogFile, 'utf8')),
  });
}

/** The JSON lines of an access log (a line cut short by a write in progress is left out). */
export function parseAccessLog(text: string): NginxLogEntry[] {
  const entries: NginxLogEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      entries.push(JSON.parse(line) as NginxLogEntry);
    } catch {
      // a partial last line
    }
  }
  return entries;
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join(' | ');
  } catch {
    return `no ${file}`;
  }
}
