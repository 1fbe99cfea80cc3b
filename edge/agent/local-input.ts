/**
 * The agent's local input: an HTTP endpoint on loopback for elenet and litefcccore.
 *
 *   POST /v1/legacy   today's JSON body, unchanged (they only change the URL they send to)
 *   POST /v1/status   a canonical status reading      POST /v1/alarm  {alarm, phase, floor}
 *   POST /v1/vision   {ebike, doorBlocked}            POST /v1/health a health report
 *
 * 202 when queued; 400 with the reason for anything else (the agent never crashes on input).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DecodeError } from '../protocol/mod.ts';
import type { EdgeAgent } from './agent.ts';

const LIMIT = 16 * 1024;

export interface LocalInput extends AsyncDisposable {
  readonly url: string;
  close(): Promise<void>;
}

export async function startLocalInput(
  agent: EdgeAgent,
  options: { port?: number } = {},
): Promise<LocalInput> {
  const server: Server = createServer((req, res) => {
    const reply = (status: number, body?: object) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    if (req.method !== 'POST') return reply(405, { error: { code: 'METHOD', message: 'POST only' } });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size <= LIMIT) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > LIMIT)
        return reply(413, { error: { code: 'TOO_LARGE', message: `body over ${LIMIT} bytes` } });
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        if (req.url === '/v1/legacy') {
          agent.legacy(text);
          return reply(202);
        }
        const body = JSON.parse(text) as Record<string, unknown>;
        switch (req.url) {
          case '/v1/status':
            agent.status(body as never);
            break;
          case '/v1/vision':
            agent.vision({ ebike: body.ebike === true, doorBlocked: body.doorBlocked === true });
            break;
          case '/v1/alarm':
            if (
              typeof body.alarm !== 'string' ||
              (body.phase !== 'start' && body.phase !== 'end') ||
              !Number.isInteger(body.floor)
            ) {
              return reply(400, {
                error: {
                  code: 'INVALID',
                  message: 'alarm needs {alarm: string, phase: "start"|"end", floor: integer}',
                },
              });
            }
            agent.alarm({ alarm: body.alarm, phase: body.phase, floor: body.floor as number });
            break;
          case '/v1/health':
            agent.health(body as never);
            break;
          default:
            return reply(404, { error: { code: 'NOT_FOUND', message: `no input ${req.url}` } });
        }
        reply(202);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        reply(400, { error: { code: error instanceof DecodeError ? error.code : 'INVALID', message } });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { url: `http://127.0.0.1:${port}`, close, [Symbol.asyncDispose]: close };
}
