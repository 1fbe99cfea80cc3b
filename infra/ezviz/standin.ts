/**
 * A stand-in for the Ezviz Open Platform (萤石开放平台, a cloud outside the fleet) for tests,
 * benchmarks and the demo: a small real HTTP server with the endpoints, answer shapes and error
 * codes docs/ezviz-open-api.md records — the access token, saving a camera's cloud recording
 * for a window under a caller-chosen fileId, the task, its files, the file's download URL — and
 * the downloads themselves: real MP4s (clips/media `renderTestClip`) whose burned-in clock covers
 * the asked window. `latencyMs` delays every API answer (a real cloud: ~200 ms); `faults`
 * (faults.ts) inject what the real one does on a bad day; `stats` keeps score.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { renderTestClip } from '../../clips/media/mod.ts';
import { type Answer, createApi, type EzvizTask } from './api.ts';
import { createFaults, type EzvizFaultSettings, type EzvizFaults } from './faults.ts';
import { createFileStore, type RenderClip } from './files.ts';

export interface EzvizStandInOptions {
  /** Default: a free port. */
  readonly port?: number;
  /** Address to listen on (default 127.0.0.1; a compose service needs 0.0.0.0). */
  readonly host?: string;
  /** The account's key pair (default: random); the clip workers are given the same. */
  readonly appKey?: string;
  readonly appSecret?: string;
  /** Delay before each API answer, ms (default 0; the bench uses 200). */
  readonly latencyMs?: number;
  /** Renders a window's MP4 (default clips/media `renderTestClip`). */
  readonly renderClip?: RenderClip;
  /** Where rendered files are cached (default a new temporary directory). */
  readonly dir?: string;
  readonly faults?: EzvizFaultSettings;
  /** How long a save task runs before it is done, ms (default 0). */
  readonly taskMs?: number;
  /** Lifetime of the tokens it issues, ms (default 7 days, as Ezviz's). */
  readonly tokenTtlMs?: number;
  /** Zone of `yyyyMMddHHmmss` times, minutes east of UTC (default 480, Beijing). */
  readonly tzOffsetMinutes?: number;
}

export interface EzvizStandInStats {
  /** API calls answered (downloads are not API calls). */
  calls: number;
  readonly callsByPath: Record<string, number>;
  /** The most API calls that arrived within one wall-clock second. */
  maxCallsPerSecond: number;
  /** Save tasks created. */
  tasks: number;
  /** Save tasks created per fileId (a duplicate fileId is refused, so each is 1). */
  readonly tasksByFileId: Map<string, number>;
  /** Saves refused because the fileId existed (409). */
  duplicateSaves: number;
  /** Downloads started (expired and forged URLs are not counted). */
  downloads: number;
  downloadsCut: number;
  downloadsExpired: number;
  tokensIssued: number;
  /** Arrival time (ms) and path of every API call, in order. */
  readonly callLog: { at: number; path: string }[];
  /** fileIds whose whole file was downloaded more than once. */
  fetchedTwice(): Set<string>;
}

export interface EzvizStandIn extends AsyncDisposable {
  readonly url: string;
  readonly appKey: string;
  readonly appSecret: string;
  readonly faults: EzvizFaults;
  readonly stats: EzvizStandInStats;
  /** A saved task, by id (tests). */
  task(taskId: string): EzvizTask | undefined;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status ?? 200, { 'content-type': 'application/json;charset=UTF-8' }).end(answer.body);
}

export async function startEzvizStandIn(options: EzvizStandInOptions = {}): Promise<EzvizStandIn> {
  const {
    port = 0,
    host = '127.0.0.1',
    appKey = randomBytes(16).toString('hex'),
    appSecret = randomBytes(16).toString('hex'),
    latencyMs = 0,
    renderClip = renderTestClip,
    dir = mkdtempSync(join(tmpdir(), 'dh-ezviz-')),
    taskMs = 0,
    tokenTtlMs = 7 * 86_400_000,
    tzOffsetMinutes = 480,
  } = options;
  if (!(Number.isInteger(latencyMs) && latencyMs >= 0 && latencyMs <= 60_000)) {
    throw new RangeError(`Cannot start Ezviz stand-in: latencyMs must be 0..60000, got ${latencyMs}`);
  }
  if (!appKey || !appSecret)
    throw new RangeError('Cannot start Ezviz stand-in: appKey and appSecret must not be empty');
  const faults = createFaults(options.faults);
  const files = createFileStore(dir, renderClip);
  let perSecond = { second: 0, calls: 0 };
  const stats: EzvizStandInStats = {
    calls: 0,
    callsByPath: {},
    maxCallsPerSecond: 0,
    tasks: 0,
    tasksByFileId: new Map(),
    duplicateSaves: 0,
    get downloads() {
      return files.counts.downloads;
    },
    get downloadsCut() {
      return files.counts.cut;
    },
    get downloadsExpired() {
      return files.counts.expired;
    },
    tokensIssued: 0,
    callLog: [],
    fetchedTwice: () => new Set([...files.fullDownloads].filter(([, n]) => n > 1).map(([id]) => id)),
  };
  let baseUrl = '';
  const api = createApi({
    appKey,
    appSecret,
    faults,
    files,
    stats,
    taskMs,
    tokenTtlMs,
    tzOffsetMinutes,
  });

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    if (files.serve(req, res, url, { cut: () => faults.takeCut() })) return;
    if (!api.knows(url.pathname)) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":"404","msg":"no such API"}');
      return;
    }
    const now = Date.now();
    const second = Math.floor(now / 1000);
    perSecond = perSecond.second === second ? { second, calls: perSecond.calls + 1 } : { second, calls: 1 };
    stats.maxCallsPerSecond = Math.max(stats.maxCallsPerSecond, perSecond.calls);
    stats.calls++;
    const pathKey = api.pathKey(url.pathname);
    stats.callsByPath[pathKey] = (stats.callsByPath[pathKey] ?? 0) + 1;
    stats.callLog.push({ at: now, path: pathKey });
    void (async () => {
      const body = req.method === 'POST' ? await readBody(req) : '';
      if (latencyMs > 0) await sleep(latencyMs);
      // Download URLs name the stand-in as the caller reached it (a compose service name, loopback).
      const dialed = req.headers.host ? `http://${req.headers.host}` : baseUrl;
      reply(res, api.answer(req, url, body, dialed));
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  // What a caller on this host dials (a wildcard address is reached on loopback).
  const dialHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  baseUrl = `http://${dialHost}:${(server.address() as AddressInfo).port}`;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    url: baseUrl,
    appKey,
    appSecret,
    faults,
    stats,
    task: (taskId) => api.tasks.get(taskId),
    close,
    [Symbol.asyncDispose]: close,
  };
}
