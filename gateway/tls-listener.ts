/**
 * HTTPS for the gateway on one port: TLS connections go to the HTTPS server (the app, WebSocket
 * upgrades as wss); a connection that starts with anything but a TLS handshake gets `400
 * HTTPS_REQUIRED` with a reason and is closed — its request (and whatever credentials it carries)
 * never reaches the app. The certificate and key are read from files and can be read again
 * without a restart (`reload`, wired to SIGHUP by `devicehub gateway`).
 */
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../actors/mod.ts';

/** The gateway's certificate (PEM, chain after it) and its private key, as files. */
export interface GatewayTls {
  readonly certFile: string;
  readonly keyFile: string;
}

/** The first byte of a TLS handshake record. */
const TLS_HANDSHAKE = 0x16;
/** A connection that sends nothing for this long is closed (before TLS or HTTP take over). */
const FIRST_BYTE_MS = 10_000;
/** Refusals are logged at most this often, with how many there were since. */
const WARN_EVERY_MS = 10_000;

export const HTTPS_REQUIRED_BODY = (host: string) =>
  JSON.stringify({
    error: {
      code: 'HTTPS_REQUIRED',
      message: `This gateway serves HTTPS only: the request was not sent; use https://${host}/`,
    },
  });

/** Reads the certificate and key; throws naming the file that cannot be read. */
export async function readTlsFiles(tls: GatewayTls): Promise<{ cert: Buffer; key: Buffer }> {
  const read = (file: string, what: string) =>
    readFile(file).catch((error: unknown) => {
      throw new Error(`Cannot read the gateway's TLS ${what} ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    });
  return { cert: await read(tls.certFile, 'certificate'), key: await read(tls.keyFile, 'key') };
}

/**
 * The listener in front of `https`: TLS connections to it, plain HTTP to a refusal. Listen on it
 * instead of the HTTPS server.
 */
export function tlsFront(https: HttpsServer, log: Logger): NetServer {
  let refused = 0;
  let warnedAt = 0;
  const count = (req: IncomingMessage) => {
    refused++;
    const now = Date.now();
    if (now - warnedAt < WARN_EVERY_MS) return;
    warnedAt = now;
    const path = req.url?.split('?')[0];
    log.warn({ method: req.method, path, refused }, 'plain HTTP refused: HTTPS only');
    refused = 0;
  };
  const refuse = (req: IncomingMessage, res: ServerResponse) => {
    count(req);
    const body = HTTPS_REQUIRED_BODY(req.headers.host ?? 'this-gateway');
    res.writeHead(400, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      connection: 'close',
    });
    res.end(body);
  };
  const plain = createHttpServer(refuse);
  plain.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    count(req);
    const body = HTTPS_REQUIRED_BODY(req.headers.host ?? 'this-gateway');
    socket.end(
      `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  plain.on('clientError', (_err, socket) => socket.destroy());
  // A handshake that fails (truncated, garbage, an old protocol): closed, and said why, bounded.
  let failed = 0;
  let failedWarnedAt = 0;
  https.on('tlsClientError', (err: NodeJS.ErrnoException, socket) => {
    failed++;
    socket.destroy();
    const now = Date.now();
    if (now - failedWarnedAt < WARN_EVERY_MS) return;
    failedWarnedAt = now;
    log.warn(
      { reason: err.code ?? err.message, address: socket.remoteAddress, failed },
      'TLS handshake failed',
    );
    failed = 0;
  });
  return createNetServer({ pauseOnConnect: true }, (socket: Socket) => {
    socket.on('error', () => socket.destroy());
    socket.setTimeout(FIRST_BYTE_MS, () => socket.destroy());
    socket.once('readable', () => {
      const first: Buffer | null = socket.read(1);
      if (first === null) return void socket.destroy();
      socket.setTimeout(0);
      socket.unshift(first);
      (first[0] === TLS_HANDSHAKE ? https : plain).emit('connection', socket);
    });
  });
}
