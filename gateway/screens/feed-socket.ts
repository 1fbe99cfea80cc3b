/**
 * `/v1/screens/{scope}/socket`: the same frames as the SSE stream over a WebSocket, for the
 * dashboard's screen page (a browser cannot set headers on an EventSource, but can name its key in
 * the WebSocket's subprotocols: `devicehub.v1, bearer.<key>`, as `/v1/events`). Text frames
 * `{"event": "snapshot"|"delta", "id": "<epoch>.<version>", "data": {...}}`; heartbeats are pings.
 * Refusals are HTTP answers to the upgrade: 401, 403 (scope-access.ts), 404 (no such scope), 503.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../actors/mod.ts';
import type { Authenticator } from '../auth.ts';
import { apiSocketServer, refuseUpgrade, upgradePrincipal } from '../events-socket.ts';
import type { FleetView } from '../fleet-view.ts';
import { PacedSubscriber } from './paced.ts';
import type { ScreenModel } from './read-model.ts';
import { refusal, SCOPE_PATTERN } from './scope-access.ts';

const PATH = /^\/v1\/screens\/([^/]+)\/socket$/;

/** The scope named by a socket path, or undefined when `path` is not a screen socket. */
export function screenSocketScope(path: string): string | undefined {
  const match = PATH.exec(path);
  if (match === null) return undefined;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return '';
  }
}

export function screenSocket(o: {
  auth: Authenticator;
  view: FleetView;
  model: ScreenModel | undefined;
  log: Logger;
}) {
  const wss = apiSocketServer();
  const handle = async (req: IncomingMessage, socket: Duplex, head: Buffer, name: string): Promise<void> => {
    const principal = await upgradePrincipal(o.auth, req, socket);
    if (principal === undefined) return;
    if (principal.kind === 'key' && principal.scope === 'service')
      return refuseUpgrade(socket, {
        status: 403,
        code: 'FORBIDDEN',
        message: `This needs scope operator; key ${principal.name} has service`,
      });
    if (!SCOPE_PATTERN.test(name))
      return refuseUpgrade(socket, {
        status: 400,
        code: 'INVALID_REQUEST',
        message: 'scope: fleet, group:<id> or building:<name>',
      });
    const why = refusal(o.view, principal, name);
    if (why !== undefined) return refuseUpgrade(socket, { status: 403, code: 'FORBIDDEN', message: why });
    const { model } = o;
    if (model === undefined)
      return refuseUpgrade(socket, {
        status: 503,
        code: 'UNAVAILABLE',
        message: 'This gateway runs no screen read model',
      });
    const scope = model.scope(name);
    if (scope === undefined)
      return refuseUpgrade(socket, {
        status: 404,
        code: 'NOT_FOUND',
        message: `No scope ${name}: no elevator is in it`,
      });
    wss.handleUpgrade(req, socket, head, (ws) => {
      const sub = new PacedSubscriber(
        scope,
        {
          write: (frame) => ws.send(frame.text),
          heartbeat: () => ws.ping(),
          buffered: () => ws.bufferedAmount,
        },
        model.paced,
      );
      ws.send(scope.snapshot().text);
      const unsubscribe = model.subscribe(scope, sub);
      ws.on('close', unsubscribe);
      ws.on('error', (err) => o.log.debug({ err }, 'screen socket error'));
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
