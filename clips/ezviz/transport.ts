/**
 * One Ezviz call as every call goes: take a unit of the cluster's budget (waiting while it is
 * spent or a cooldown holds), send the request (form-encoded POST or GET, the token where the
 * endpoint wants it), read the envelope; a 10007/10029 answer starts the shared cooldown. Counts
 * what the metrics show (`EzvizStats`).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../actors/mod.ts';
import { type Bus, type EzvizBudget, startEzvizCooldown, takeEzvizBudget } from '../../bus/mod.ts';
import { EzvizError, ezvizError, RATE_CODES } from './errors.ts';
import { type EzvizEndpoint, readEnvelope } from './wire.ts';

export interface EzvizStats {
  /** Calls sent, by endpoint (token, save, fileInfo, task, taskFiles, download). */
  readonly calls: Record<string, number>;
  /** Error answers, by code. */
  readonly errors: Record<string, number>;
  /** Times a call waited for the budget, and for how long in all (ms). */
  budgetWaits: number;
  budgetWaitMs: number;
  /** Waits that were a cooldown's. */
  cooldownWaits: number;
  /** Cooldowns this client started. */
  cooldownsStarted: number;
  /** Tokens this client fetched. */
  tokensFetched: number;
  /** 10002 answers that led to a refresh attempt. */
  tokenRejections: number;
}

/** A fresh, zeroed EzvizStats. */
export function createEzvizStats(): EzvizStats {
  return {
    calls: {},
    errors: {},
    budgetWaits: 0,
    budgetWaitMs: 0,
    cooldownWaits: 0,
    cooldownsStarted: 0,
    tokensFetched: 0,
    tokenRejections: 0,
  };
}

export interface EzvizRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Parameters: the query (GET) or a form body (POST). */
  readonly params: Record<string, string>;
  /** Where the access token goes. */
  readonly tokenIn: 'params' | 'header' | 'none';
}

export interface TransportOptions {
  /** The base URL without a trailing slash. */
  readonly root: string;
  readonly bus: Bus;
  readonly budget: EzvizBudget;
  readonly stats: EzvizStats;
  readonly logger: Logger;
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
  readonly frequencyCooldown: { baseMs: number; maxMs: number };
  readonly countCooldown: { baseMs: number; maxMs: number };
}

export type Send = (
  endpoint: EzvizEndpoint,
  request: EzvizRequest,
  token: string,
  signal?: AbortSignal,
) => Promise<unknown>;

export function createTransport(options: TransportOptions): Send {
  const {
    root,
    bus,
    budget,
    stats,
    logger,
    fetch: doFetch,
    timeoutMs,
    frequencyCooldown,
    countCooldown,
  } = options;
  const count = (map: Record<string, number>, key: string) => {
    map[key] = (map[key] ?? 0) + 1;
  };

  async function takeBudget(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const grant = await takeEzvizBudget(bus, budget);
      if (grant.taken) return;
      stats.budgetWaits++;
      if (grant.cooldown) stats.cooldownWaits++;
      // A little jitter, so the waiting workers do not all ask again in the same millisecond.
      const wait = grant.waitMs + Math.floor(Math.random() * Math.min(50, grant.waitMs));
      stats.budgetWaitMs += wait;
      await sleep(wait, undefined, { signal });
    }
  }

  /** One call: budget, HTTP, envelope; rate answers start the cooldown. The data of a `200` answer. */
  async function send(endpoint: EzvizEndpoint, request: EzvizRequest, token: string, signal?: AbortSignal) {
    await takeBudget(signal);
    count(stats.calls, endpoint);
    const params = new URLSearchParams(request.params);
    const headers: Record<string, string> = {};
    if (request.tokenIn === 'params') params.set('accessToken', token);
    if (request.tokenIn === 'header') headers.accessToken = token;
    let url = `${root}${request.path}`;
    let body: string | undefined;
    if (request.method === 'GET') url += `?${params}`;
    else {
      body = params.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const timeout = AbortSignal.timeout(timeoutMs);
    let status: number;
    let text: string;
    try {
      const response = await doFetch(url, {
        method: request.method,
        headers,
        body,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      status = response.status;
      text = await response.text();
    } catch (cause) {
      signal?.throwIfAborted();
      count(stats.errors, 'NETWORK');
      throw ezvizError(endpoint, 'NETWORK', `request failed: ${(cause as Error).message}`, cause);
    }
    let envelope: ReturnType<typeof readEnvelope>;
    try {
      envelope = readEnvelope(endpoint, status, text);
    } catch (error) {
      if (error instanceof EzvizError) count(stats.errors, error.code);
      throw error;
    }
    if (envelope.code === '200') return envelope.data;
    count(stats.errors, envelope.code);
    if (RATE_CODES.has(envelope.code)) {
      const shape = envelope.code === '10007' ? countCooldown : frequencyCooldown;
      const { cooldownMs, strikes } = await startEzvizCooldown(bus, { code: envelope.code, ...shape });
      stats.cooldownsStarted++;
      logger.warn({ endpoint, code: envelope.code, cooldownMs, strikes }, 'ezviz rate limit: cooling down');
    }
    throw ezvizError(endpoint, envelope.code, envelope.message);
  }

  return send;
}
