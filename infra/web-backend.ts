/**
 * A stand-in for the operator's web backend (a system outside the fleet): a small real HTTP
 * server that takes the gateway's event POSTs and keeps score — events by idempotency key,
 * duplicates, order per edge or per rollout (by outbox id) — and can be told to stall (hold every request
 * unanswered until it recovers, then answer them all, as a backend stuck on its database does),
 * to fail fast (503), or to refuse some events for good (422).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type BackendMode = 'ok' | 'stall' | 'fail';

/** Compares outbox item ids (`g<group>-<ms>-<seq>`) of one group. */
function after(a: string, b: string): boolean {
  const [, am = '0', as = '0'] = a.split('-');
  const [, bm = '0', bs = '0'] = b.split('-');
  return Number(am) !== Number(bm) ? Number(am) > Number(bm) : Number(as) > Number(bs);
}

export interface WebBackendStandIn extends AsyncDisposable {
  readonly url: string;
  mode: BackendMode;
  /** Events with these edge ids are refused with 422. */
  readonly refuseEdges: Set<string>;
  readonly stats: {
    requests: number;
    /** Distinct idempotency keys taken (2xx). */
    delivered: number;
    /** Requests repeating a key already taken. */
    duplicates: number;
    /** Events older (by outbox id) than one already taken for the same edge. */
    outOfOrder: number;
    refused: number;
    /** Most requests held at once while stalled. */
    maxHeld: number;
  };
  /** Keys taken, in the order taken. */
  readonly taken: string[];
  readonly events: Map<string, { type: string; edgeId: string }>;
  close(): Promise<void>;
}

export async function startWebBackendStandIn(): Promise<WebBackendStandIn> {
  const held: (() => void)[] = [];
  const lastByEdge = new Map<string, string>();
  let mode: BackendMode = 'ok';
  const backend = {
    refuseEdges: new Set<string>(),
    stats: { requests: 0, delivered: 0, duplicates: 0, outOfOrder: 0, refused: 0, maxHeld: 0 },
    taken: [] as string[],
    events: new Map<string, { type: string; edgeId: string }>(),
  };
  const take = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const key = String(req.headers['idempotency-key'] ?? '');
    const event = JSON.parse(body) as { type: string; edgeId: string };
    if (backend.refuseEdges.has(event.edgeId)) {
      backend.stats.refused++;
      res.writeHead(422, { 'content-type': 'application/json' }).end('{"error":"refused"}');
      return;
    }
    if (backend.events.has(key)) backend.stats.duplicates++;
    else {
      // A rollout's own events (no edge) are in order per rollout.
      const rollout = (event as { rollout?: unknown }).rollout;
      const orderedBy = event.edgeId ?? `rollout/${String(rollout)}`;
      const last = lastByEdge.get(orderedBy);
      if (last !== undefined && after(last, key)) backend.stats.outOfOrder++;
      else lastByEdge.set(orderedBy, key);
      backend.events.set(key, event);
      backend.taken.push(key);
      backend.stats.delivered++;
    }
    res.writeHead(204).end();
  };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      backend.stats.requests++;
      if (mode === 'fail') {
        res.writeHead(503).end();
        return;
      }
      if (mode === 'stall') {
        held.push(() => take(req, res, body));
        backend.stats.maxHeld = Math.max(backend.stats.maxHeld, held.length);
        return;
      }
      take(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return Object.defineProperties(backend as unknown as WebBackendStandIn, {
    url: { value: `http://127.0.0.1:${port}/devicehub/events` },
    mode: {
      get: () => mode,
      set: (next: BackendMode) => {
        mode = next;
        // Recovering: the held requests are answered (their clients may have given up already).
        if (next !== 'stall') for (const answer of held.splice(0)) answer();
      },
      enumerable: true,
    },
    close: { value: close },
    [Symbol.asyncDispose]: { value: close },
  });
}
