/**
 * VictoriaLogs as a LogStore, over its HTTP API: `write` POSTs JSON lines to /insert/jsonline
 * (stream fields service, host, edgeId), `query` runs a LogsQL built by logsql.ts at
 * /select/logsql/query (newest first, keyset pages), `tail` reads /select/logsql/tail's stream
 * and reconnects when the store goes away while the signal is live (replaying from the last line
 * it gave, without repeating it; a tail that never connected fails UNREACHABLE). Errors: the store unreachable, timed out or failing (5xx) →
 * UNREACHABLE; a write it refuses (4xx) → REJECTED; a query it refuses (4xx) → BAD_QUERY, each with
 * VictoriaLogs' own message. docs/decisions/036-log-store.md.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../actors/logger.ts';
import { quietLogger } from '../quiet-logger.ts';
import { encodeCursor, pageQuery, tailQuery } from './logsql.ts';
import { fromRow, randomRids, STREAM_FIELDS, toRow } from './rows.ts';
import {
  type LogPage,
  type LogQuery,
  type LogRecord,
  type LogStore,
  LogStoreError,
  type TailFilter,
} from './types.ts';

export interface VictoriaLogsStoreOptions {
  logger?: Logger;
  /** How long a write or a query may take before it fails UNREACHABLE (default 30 s). */
  timeoutMs?: number;
  /**
   * How far behind now a tail reads (VictoriaLogs' `offset`, default 5 s, its own default): a line
   * that reaches the store later than this after its time is in queries but not in the tail.
   */
  tailDelayMs?: number;
  /** How often a tail looks for new lines (VictoriaLogs' `refresh_interval`, default 1 s). */
  tailRefreshMs?: number;
}

/** The most keys a tail remembers to drop lines it gave before a reconnect. */
const TAIL_SEEN = 10_000;
/** The furthest back a reconnecting tail replays. */
const TAIL_MAX_REPLAY_MS = 3_600_000;

export class VictoriaLogsStore implements LogStore {
  readonly kind = 'victorialogs';
  readonly url: URL;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #tailDelayMs: number;
  readonly #tailRefreshMs: number;
  readonly #tails = new Set<AbortController>();

  constructor(url: URL, options: VictoriaLogsStoreOptions = {}) {
    this.url = url;
    this.#logger = (options.logger ?? quietLogger).child({ component: 'log-store' });
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#tailDelayMs = options.tailDelayMs ?? 5_000;
    this.#tailRefreshMs = options.tailRefreshMs ?? 1_000;
  }

  #endpoint(path: string, params?: Record<string, string>): string {
    const base = `${this.url.origin}${this.url.pathname.replace(/\/+$/, '')}`;
    return params ? `${base}${path}?${new URLSearchParams(params)}` : `${base}${path}`;
  }

  /** One request with the store's timeout and the caller's signal; errors as LogStoreError. */
  async #request(
    path: string,
    init: RequestInit & { params?: Record<string, string> },
    signal?: AbortSignal,
  ) {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const { params, ...rest } = init;
    try {
      const response = await fetch(this.#endpoint(path, params), { ...rest, signal: combined });
      const text = await response.text();
      return { status: response.status, text };
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted)
        throw new LogStoreError(
          'UNREACHABLE',
          `VictoriaLogs at ${this.url.origin} did not answer in ${this.#timeoutMs} ms`,
          { cause: err },
        );
      throw unreachable(this.url, err);
    }
  }

  async write(records: readonly LogRecord[], signal?: AbortSignal): Promise<void> {
    if (records.length === 0) return;
    const rids = randomRids(records.length);
    const body = `${records.map((r, i) => toRow(r, rids[i] as string, i)).join('\n')}\n`;
    const { status, text } = await this.#request(
      '/insert/jsonline',
      {
        method: 'POST',
        headers: { 'content-type': 'application/stream+json' },
        body,
        params: { _stream_fields: STREAM_FIELDS.join(','), _msg_field: '_msg', _time_field: '_time' },
      },
      signal,
    );
    if (status >= 200 && status < 300) return;
    throw statusError(this.url, status, text, 'REJECTED');
  }

  async query(q: LogQuery, signal?: AbortSignal): Promise<LogPage> {
    const query = pageQuery(q);
    const { status, text } = await this.#request(
      '/select/logsql/query',
      { method: 'POST', body: new URLSearchParams({ query }) },
      signal,
    );
    if (status < 200 || status >= 300) throw statusError(this.url, status, text, 'BAD_QUERY');
    const rows = text
      .split('\n')
      .filter((line) => line !== '')
      .map(fromRow);
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    const result: LogPage = { records: page.map((row) => row.record) };
    if (rows.length > q.limit && last) result.next = encodeCursor({ time: last.time, rid: last.rid });
    return result;
  }

  async *tail(filter: TailFilter, signal: AbortSignal): AsyncIterable<LogRecord> {
    const query = tailQuery(filter);
    if (signal.aborted) return;
    const own = new AbortController();
    const stop = () => own.abort(signal.reason);
    signal.addEventListener('abort', stop, { once: true });
    this.#tails.add(own);
    const seen = new Set<string>();
    let since = Date.now();
    let backoffMs = 100;
    let down = false;
    let connected = false;
    try {
      while (!own.signal.aborted) {
        const params: Record<string, string> = {
          offset: `${this.#tailDelayMs}ms`,
          refresh_interval: `${this.#tailRefreshMs}ms`,
        };
        // After a reconnect: replay from the last line given (the tail's delay and a second more).
        if (down) {
          const replayMs = Math.min(Date.now() - since + this.#tailDelayMs + 1_000, TAIL_MAX_REPLAY_MS);
          params.start_offset = `${Math.ceil(replayMs / 1000)}s`;
        }
        let body: ReadableStream<Uint8Array> | null = null;
        try {
          const response = await fetch(this.#endpoint('/select/logsql/tail', params), {
            method: 'POST',
            body: new URLSearchParams({ query }),
            signal: own.signal,
          });
          // 4xx: BAD_QUERY, thrown; 5xx: UNREACHABLE, retried below.
          if (!response.ok) throw statusError(this.url, response.status, await response.text(), 'BAD_QUERY');
          body = response.body;
          connected = true;
          if (down) this.#logger.info({ url: this.url.origin }, 'log store tail reconnected');
          down = false;
          backoffMs = 100;
          for await (const line of lines(body)) {
            const row = fromRow(line);
            const key = row.rid !== '' ? `${row.time}|${row.rid}` : line;
            if (seen.has(key)) continue;
            seen.add(key);
            if (seen.size > TAIL_SEEN) seen.delete(seen.values().next().value as string);
            if (Number.isFinite(row.record.time)) since = Math.max(since, row.record.time);
            yield row.record;
          }
        } catch (err) {
          if (own.signal.aborted) return;
          if (err instanceof LogStoreError && err.code === 'BAD_QUERY') throw err;
          // Never connected: the caller hears it now (a store that is down is not a quiet tail).
          if (!connected) throw err instanceof LogStoreError ? err : unreachable(this.url, err);
          if (!down) this.#logger.warn({ url: this.url.origin, err }, 'log store tail lost; reconnecting');
          down = true;
        }
        if (!down) this.#logger.warn({ url: this.url.origin }, 'log store tail ended; reconnecting');
        down = true;
        try {
          await sleep(backoffMs, undefined, { signal: own.signal });
        } catch {
          return;
        }
        backoffMs = Math.min(backoffMs * 2, 2_000);
      }
    } finally {
      signal.removeEventListener('abort', stop);
      this.#tails.delete(own);
      own.abort();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const tail of this.#tails) tail.abort(new Error('log store closed'));
  }
}

/** The JSON lines of a streamed response, as they arrive. */
async function* lines(body: ReadableStream<Uint8Array> | null): AsyncGenerator<string> {
  if (!body) return;
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim() !== '') yield line;
      newline = buffered.indexOf('\n');
    }
  }
  buffered += decoder.decode();
  if (buffered.trim() !== '') yield buffered;
}

function unreachable(url: URL, err: unknown): LogStoreError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (err as Error).message;
  return new LogStoreError('UNREACHABLE', `VictoriaLogs at ${url.origin} is unreachable (${why})`, {
    cause: err,
  });
}

function statusError(url: URL, status: number, text: string, code: 'REJECTED' | 'BAD_QUERY'): LogStoreError {
  const message = text.trim().slice(0, 2000) || `HTTP ${status}`;
  if (status >= 400 && status < 500) return new LogStoreError(code, `VictoriaLogs: ${message}`);
  return new LogStoreError(
    'UNREACHABLE',
    `VictoriaLogs at ${url.origin} failed (HTTP ${status}): ${message}`,
  );
}
