/**
 * `GET /v1/logs/tail` as a WebSocket (operator): log lines as they reach the store, filtered by
 * `edge`, `service`, `level` (this or worse) and `q` (plain words), as JSON text frames.
 *
 * Authenticated as `/v1/events` is: `Authorization: Bearer <key>`, or the subprotocols
 * `devicehub.v1, bearer.<key>` for browsers. Refused before the upgrade: no key 401, an edge or a
 * key below operator 403, a bad filter 400 naming it, no log store 503. Frames: `{"type":"ready"}`
 * first, then `{"type":"line","record":{…}}`. Backpressure: while more than `maxBufferedBytes` wait
 * to be sent to a slow client, its lines are dropped and counted, never queued; once it has caught
 * up it gets `{"type":"dropped","count":N,"total":T}` before the next line (or within a second).
 * The store failing ends the tail with `{"type":"error","message"}` and close code 1011; the
 * client closing, or the gateway, aborts the store's tail.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import type { Logger } from '../../actors/mod.ts';
import type { LogStore, TailFilter } from '../../logs/mod.ts';
import { type Authenticator, hasScope } from '../auth.ts';
import { apiSocketServer, refuseUpgrade, upgradePrincipal } from '../events-socket.ts';
import { NO_LOG_STORE } from './routes.ts';
import { TailQuery, tailFilter } from './schemas.ts';

export const LOG_TAIL_PATH = '/v1/logs/tail';
/** Bytes waiting for a client past which its lines are dropped. */
export const DEFAULT_TAIL_MAX_BUFFERED = 1024 * 1024;
/** How often a client that lost lines is checked for having caught up (to be told). */
const NOTICE_EVERY_MS = 1000;

export interface LogTailOptions {
  readonly auth: Authenticator;
  /** None: every upgrade is refused 503. */
  readonly store: LogStore | undefined;
  readonly log: Logger;
  readonly maxBufferedBytes?: number;
}

export interface LogTailSocket {
  handle(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
  /** Ends every tail (their store reads aborted) and refuses new ones. */
  close(): void;
}

export function logTailSocket(o: LogTailOptions): LogTailSocket {
  const maxBuffered = o.maxBufferedBytes ?? DEFAULT_TAIL_MAX_BUFFERED;
  const wss = apiSocketServer();
  const handle = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    const principal = await upgradePrincipal(o.auth, req, socket);
    if (principal === undefined) return;
    if (!hasScope(principal, 'operator'))
      return refuseUpgrade(socket, {
        status: 403,
        code: 'FORBIDDEN',
        message:
          principal.kind === 'key'
            ? `Tailing logs needs scope operator; key ${principal.name} has ${principal.scope}`
            : `Edge ${principal.id} may not read logs`,
      });
    const url = new URL(req.url ?? '/', 'http://gateway');
    const parsed = TailQuery.safeParse(Object.fromEntries(url.searchParams));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return refuseUpgrade(socket, {
        status: 400,
        code: 'INVALID_REQUEST',
        message: issue === undefined ? 'invalid request' : `${issue.path.join('.')}: ${issue.message}`,
      });
    }
    const store = o.store;
    if (store === undefined)
      return refuseUpgrade(socket, { status: 503, code: 'UNAVAILABLE', message: NO_LOG_STORE });
    const filter = tailFilter(parsed.data);
    wss.handleUpgrade(req, socket, head, (ws) => void stream(ws, store, filter));
  };

  async function stream(ws: WebSocket, store: LogStore, filter: TailFilter): Promise<void> {
    const abort = new AbortController();
    ws.on('close', () => abort.abort());
    ws.on('error', (err) => o.log.debug({ err }, 'log tail socket error'));
    let dropped = 0;
    let total = 0;
    const tell = () => {
      if (dropped === 0 || ws.readyState !== WebSocket.OPEN || ws.bufferedAmount > maxBuffered) return;
      ws.send(JSON.stringify({ type: 'dropped', count: dropped, total }));
      o.log.info({ dropped, total }, 'log tail client fell behind: lines dropped');
      dropped = 0;
    };
    const notices = setInterval(tell, NOTICE_EVERY_MS);
    notices.unref();
    ws.send(JSON.stringify({ type: 'ready' }));
    try {
      for await (const record of store.tail(filter, abort.signal)) {
        if (ws.readyState !== WebSocket.OPEN) break;
        if (ws.bufferedAmount > maxBuffered) {
          dropped++;
          total++;
          continue;
        }
        tell();
        ws.send(JSON.stringify({ type: 'line', record }));
      }
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'the tail ended');
    } catch (err) {
      if (abort.signal.aborted) return;
      o.log.warn({ err }, 'log tail failed');
      const message = `The log store is unavailable: ${err instanceof Error ? err.message : String(err)}`;
      if (ws.readyState === WebSocket.OPEN) {
        ws.send(JSON.stringify({ type: 'error', message }));
        ws.close(1011, 'log store unavailable');
      }
    } finally {
      clearInterval(notices);
      abort.abort();
    }
  }

  return {
    handle,
    close: () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
