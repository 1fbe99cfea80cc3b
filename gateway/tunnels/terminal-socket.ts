/**
 * SSH in the browser: `GET /v1/edges/{id}/tunnels/{tunnelId}/terminal` upgrades to a WebSocket
 * bridged to the tunnel's SSH (ssh2, with the gateway's own key, which edges authorise) — for an
 * operator (scope operator or admin; API key by header or `bearer.<key>` subprotocol) and only
 * while the tunnel is open and carries ssh.
 *
 * Frames: binary (or text) from the browser are keystrokes; a text frame
 * `{"type":"resize","cols":N,"rows":N}` resizes the terminal; binary frames back are the screen.
 * Every session is recorded: who, which edge and tunnel, start and end, bytes each way.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { and, eq } from 'drizzle-orm';
import { Client, type ClientChannel } from 'ssh2';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../../actors/mod.ts';
import type { Bus } from '../../bus/mod.ts';
import { audit } from '../audit.ts';
import { type Authenticator, actorOf, hasScope } from '../auth.ts';
import type { Db } from '../db/database.ts';
import { terminalSessions, tunnels } from '../db/schema.ts';
import type { TunnelSettings } from '../deps.ts';
import { readTunnels } from '../edge-states.ts';
import { EVENTS_PROTOCOL, refuseUpgrade, upgradeCredentials } from '../events-socket.ts';
import { connectVia } from './connect-via.ts';
import { tunnelSecret } from './secret.ts';

/** The path of a tunnel's terminal, or undefined. */
export function terminalPath(path: string): { edgeId: string; tunnelId: string } | undefined {
  const m = /^\/v1\/edges\/([A-Za-z0-9_.:-]{1,128})\/tunnels\/([A-Za-z0-9_.:-]{1,64})\/terminal$/.exec(path);
  return m === null ? undefined : { edgeId: m[1]!, tunnelId: m[2]! };
}

export interface TerminalDeps {
  readonly db: Db;
  readonly bus: Bus;
  readonly auth: Authenticator;
  readonly tunnels: TunnelSettings;
  readonly log: Logger;
}

export function terminalSocket(deps: TerminalDeps) {
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has(EVENTS_PROTOCOL) ? EVENTS_PROTOCOL : false),
  });
  return {
    handle: (request: TerminalUpgrade) => upgrade(deps, wss, request),
    close: () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}

type TerminalAt = { edgeId: string; tunnelId: string };

/** An upgrade request for a tunnel's terminal: the request, its socket and first bytes, and the tunnel. */
export interface TerminalUpgrade {
  readonly req: IncomingMessage;
  readonly socket: Duplex;
  readonly head: Buffer;
  readonly at: TerminalAt;
}

/**
 * Checks the operator, the tunnel (open, with ssh) and reaches the edge's sshd through frps
 * before answering the upgrade: any failure is an HTTP error.
 */
async function upgrade(deps: TerminalDeps, wss: WebSocketServer, request: TerminalUpgrade): Promise<void> {
  const { req, socket, head, at } = request;
  const principal = await deps.auth.principal(upgradeCredentials(req), req);
  if (principal === undefined)
    return refuseUpgrade(socket, { status: 401, code: 'UNAUTHENTICATED', message: 'Send an API key' });
  if (!hasScope(principal, 'operator'))
    return refuseUpgrade(socket, {
      status: 403,
      code: 'FORBIDDEN',
      message: 'A terminal into an edge needs scope operator',
    });
  const ssh = deps.tunnels.ssh;
  if (ssh === undefined)
    return refuseUpgrade(socket, {
      status: 503,
      code: 'UNAVAILABLE',
      message: 'This gateway has no SSH key for edges (--tunnel-ssh-key)',
    });
  const [row] = await deps.db
    .select()
    .from(tunnels)
    .where(and(eq(tunnels.id, at.tunnelId), eq(tunnels.edgeId, at.edgeId)));
  if (row === undefined)
    return refuseUpgrade(socket, {
      status: 404,
      code: 'NOT_FOUND',
      message: `No tunnel ${at.tunnelId} for edge ${at.edgeId}`,
    });
  const live = (await readTunnels(deps.bus, at.edgeId))[at.tunnelId];
  const state = live?.state ?? row.state;
  const service = row.services.find((s) => s.name === 'ssh');
  if (state !== 'open' || service === undefined)
    return refuseUpgrade(socket, {
      status: 409,
      code: 'CONFLICT',
      message: `Tunnel ${at.tunnelId} is ${state}${service ? '' : ' and has no ssh'}`,
    });

  // Reach the edge's sshd through frps before answering the upgrade: a failure is an HTTP error.
  let sock: Socket;
  try {
    sock =
      service.host !== undefined && deps.tunnels.mux !== undefined
        ? await connectVia(
            { host: deps.tunnels.reachHost ?? deps.tunnels.publicHost, port: deps.tunnels.mux.port },
            `${service.host}:22`,
            { auth: { tunnelId: at.tunnelId, secret: tunnelSecret(deps.tunnels, at.tunnelId)! } },
          )
        : await new Promise<Socket>((resolve, reject) => {
            const s = connect(service.remotePort!, deps.tunnels.reachHost ?? deps.tunnels.publicHost);
            s.once('connect', () => resolve(s)).once('error', reject);
          });
  } catch (error) {
    return refuseUpgrade(socket, {
      status: 503,
      code: 'UNAVAILABLE',
      message: `The tunnel does not answer: ${(error as Error).message}`,
    });
  }
  wss.handleUpgrade(
    req,
    socket,
    head,
    (ws) => void bridge(deps, { ws, sock }, { ...at, actor: actorOf(principal), ssh }),
  );
}

/** The WebSocket ↔ ssh2 shell bridge of one session, recorded from start to end. */
async function bridge(
  deps: TerminalDeps,
  { ws, sock }: { ws: WebSocket; sock: Socket },
  { actor, ssh, ...at }: TerminalAt & { actor: string; ssh: NonNullable<TunnelSettings['ssh']> },
): Promise<void> {
  const id = `s-${randomUUID()}`;
  const counts = { in: 0, out: 0 };
  await deps.db.insert(terminalSessions).values({ id, tunnelId: at.tunnelId, edgeId: at.edgeId, actor });
  await audit(deps.db, {
    actor,
    action: 'terminal.open',
    target: `edge/${at.edgeId}`,
    details: { sessionId: id, tunnelId: at.tunnelId },
  });
  const client = new Client();
  let ended = false;
  const end = async (reason: string) => {
    if (ended) return;
    ended = true;
    client.end();
    sock.destroy();
    if (ws.readyState === ws.OPEN) ws.close(1000, reason.slice(0, 120));
    await deps.db
      .update(terminalSessions)
      .set({ endedAt: new Date(), bytesIn: counts.in, bytesOut: counts.out, endReason: reason })
      .where(eq(terminalSessions.id, id))
      .catch((err: unknown) => deps.log.warn({ err, sessionId: id }, 'terminal session not recorded'));
  };
  ws.on('close', () => void end('closed by the browser'));
  // What the browser sends before the shell is up waits for it.
  let shell: ClientChannel | undefined;
  const early: [Buffer, boolean][] = [];
  const take = (bytes: Buffer, isBinary: boolean) => {
    if (shell === undefined) return void early.push([bytes, isBinary]);
    if (!isBinary && bytes[0] === 0x7b) {
      try {
        const control = JSON.parse(bytes.toString('utf8')) as {
          type?: string;
          cols?: number;
          rows?: number;
        };
        if (control.type === 'resize' && Number.isInteger(control.cols) && Number.isInteger(control.rows))
          shell.setWindow(control.rows!, control.cols!, 0, 0);
        return;
      } catch {
        // not a control message: keystrokes that start with "{"
      }
    }
    counts.in += bytes.length;
    shell.write(bytes);
  };
  ws.on('message', (data, isBinary) =>
    take(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), isBinary),
  );
  client.on('error', (err) => void end(`ssh: ${err.message}`));
  client.on('ready', () => {
    client.shell({ term: 'xterm-256color', cols: 120, rows: 32 }, (err, stream: ClientChannel) => {
      if (err) return void end(`ssh shell: ${err.message}`);
      stream.on('data', (data: Buffer) => {
        counts.out += data.length;
        ws.send(data);
      });
      stream.on('close', () => void end('the shell ended'));
      shell = stream;
      for (const [data, isBinary] of early.splice(0)) take(data, isBinary);
    });
  });
  client.connect({ sock, username: ssh.user, privateKey: ssh.privateKey, readyTimeout: 15_000 });
}
