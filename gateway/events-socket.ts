/**
 * `GET /v1/events` as a WebSocket: the live feed of fleet events (alarms, online/offline, tunnel
 * states, command results) as JSON text frames, for any API key (service scope and up).
 *
 * Authenticate with `Authorization: Bearer <key>`, or — browsers cannot set headers on a
 * WebSocket — with the subprotocols `devicehub.v1, bearer.<key>` (the server answers
 * `devicehub.v1`). Filters: `?types=alarm.start,edge.offline` and `?edge=<id>`. The first frame is
 * `{"type":"ready"}`: events from then on arrive. A client that falls 4 MB behind is closed with
 * 1013 (try again later) rather than buffered without bound.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from '../actors/mod.ts';
import type { Authenticator, Principal } from './auth.ts';
import { errorBody } from './errors.ts';
import type { EventFeed } from './live-events.ts';

export const EVENTS_PROTOCOL = 'devicehub.v1';
const MAX_BUFFERED = 4 * 1024 * 1024;

/** The Authorization header a request carries, or the key its subprotocols name. */
export function upgradeCredentials(req: IncomingMessage): string | undefined {
  if (req.headers.authorization) return req.headers.authorization;
  const protocols = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim());
  const key = protocols.find((p) => p.startsWith('bearer.'));
  return key === undefined ? undefined : `Bearer ${key.slice('bearer.'.length)}`;
}

const REASONS = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  503: 'Service Unavailable',
} as const;

/** Why an upgrade request is refused: the HTTP status, the error code and message of the body. */
export interface UpgradeRefusal {
  readonly status: keyof typeof REASONS;
  readonly code: Parameters<typeof errorBody>[0];
  readonly message: string;
}

/** Answers an upgrade request with an HTTP error and closes the socket. */
export function refuseUpgrade(socket: Duplex, refusal: UpgradeRefusal) {
  const { status, code, message } = refusal;
  const body = JSON.stringify(errorBody(code, message));
  const reason = REASONS[status];
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** A WebSocket server for an API socket: upgrades handed to it, the `devicehub.v1` subprotocol. */
export function apiSocketServer(): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has(EVENTS_PROTOCOL) ? EVENTS_PROTOCOL : false),
  });
}

/** Who an upgrade request authenticates as; undefined once it has been refused 401. */
export async function upgradePrincipal(
  auth: Authenticator,
  req: IncomingMessage,
  socket: Duplex,
): Promise<Principal | undefined> {
  const principal = await auth.principal(upgradeCredentials(req), req);
  if (principal === undefined)
    refuseUpgrade(socket, {
      status: 401,
      code: 'UNAUTHENTICATED',
      message: 'Send an API key (Bearer header or bearer.<key> subprotocol)',
    });
  return principal;
}

export function eventsSocket(o: { auth: Authenticator; feed: EventFeed; log: Logger }) {
  const wss = apiSocketServer();
  const handle = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    const principal = await upgradePrincipal(o.auth, req, socket);
    if (principal === undefined) return;
    if (principal.kind !== 'key')
      return refuseUpgrade(socket, {
        status: 403,
        code: 'FORBIDDEN',
        message: `Edge ${principal.id} may not read the event feed`,
      });
    const url = new URL(req.url ?? '/', 'http://gateway');
    const types = url.searchParams.get('types')?.split(',').filter(Boolean);
    const edge = url.searchParams.get('edge');
    wss.handleUpgrade(req, socket, head, (ws) => {
      const unsubscribe = o.feed.subscribe(({ id, emittedAt, event }) => {
        if (types !== undefined && !types.includes(event.type)) return;
        if (edge !== null && event.edgeId !== edge) return;
        if (ws.bufferedAmount > MAX_BUFFERED) {
          ws.close(1013, 'too far behind; reconnect');
          return;
        }
        ws.send(JSON.stringify({ ...event, eventId: id, emittedAt }));
      });
      ws.on('close', unsubscribe);
      ws.on('error', (err) => o.log.debug({ err }, 'event socket error'));
      ws.send(JSON.stringify({ type: 'ready' }));
    });
  };
  return {
    handle,
    close: () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
