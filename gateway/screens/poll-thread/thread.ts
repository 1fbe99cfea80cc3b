/**
 * The snapshot-poll thread (decision 065): its own HTTP listener, answering wall screens'
 * `GET /v1/screens/{scope}` from what the main thread told it (messages.ts), so that no feed,
 * fan-out, scrape or garbage collection of the main thread sits in front of a poll. A poll it can
 * answer — credentials with a current rule that allows the scope, a scope it holds — is a 304 on
 * the version or a 200 with the held bytes; every other request under `/v1/screens/{scope}` (no
 * rule yet, a scope not held, a large scope's 200, a query string) is handed to the main thread,
 * whose app answers it, errors included. Anything else on this port is a 404 naming what it serves.
 * Loads no gateway module: it runs beside them, not with them.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { SCOPE_PATTERN } from '../scope-access.ts';
import { COUNTER, type PollThreadData, type ScopeRule, type ToMain, type ToThread } from './messages.ts';

const PREFIX = '/v1/screens/';
const data = workerData as PollThreadData;
const port = parentPort!;
const counters = new BigInt64Array(data.counters);

interface HeldRule {
  rule: ScopeRule;
  /** Asked again once, ahead of its end. */
  asked: boolean;
}
interface HeldScope {
  id: string;
  body: Uint8Array | undefined;
  polledAt: number;
}

const rules = new Map<string, HeldRule>();
const scopes = new Map<string, HeldScope>();
/** Requests handed to the main thread, by their `seq`, with the header their rule will be for. */
const waiting = new Map<number, { res: ServerResponse; header: string | undefined }>();
let seq = 0;

const post = (message: ToMain) => port.postMessage(message);

const NOT_HERE = Buffer.from(
  JSON.stringify({
    error: {
      code: 'NOT_FOUND',
      message:
        "This port answers wall screens' snapshot polls only (GET /v1/screens/{scope}); the gateway's own port answers the rest",
    },
  }),
);

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '';
  if (req.method !== 'GET' || !url.startsWith(PREFIX)) {
    notHere(res);
    return;
  }
  const raw = url.slice(PREFIX.length);
  if (raw.includes('/')) {
    notHere(res);
    return;
  }
  if (raw.includes('?')) {
    ask(req, res);
    return;
  }
  const name = decoded(raw);
  if (name === undefined || !SCOPE_PATTERN.test(name)) {
    ask(req, res);
    return;
  }
  const header = req.headers.authorization;
  const held = header === undefined ? undefined : rules.get(header);
  const scope = scopes.get(name);
  const now = Date.now();
  if (held === undefined || scope === undefined || held.rule.until <= now || !allows(held.rule, name)) {
    ask(req, res);
    return;
  }
  scope.polledAt = now;
  if (!held.asked && held.rule.until - now < data.refreshAheadMs) {
    held.asked = true;
    post({ type: 'refresh', header: header! });
  }
  const etag = `"${scope.id}"`;
  if (req.headers['if-none-match'] === etag) {
    Atomics.add(counters, COUNTER.notModified, 1n);
    res.writeHead(304, { etag, 'cache-control': 'no-cache' });
    res.end();
    return;
  }
  if (scope.body === undefined) {
    ask(req, res);
    return;
  }
  Atomics.add(counters, COUNTER.snapshot, 1n);
  res.writeHead(200, {
    etag,
    'cache-control': 'no-cache',
    'content-type': 'application/json',
    'content-length': scope.body.length,
  });
  res.end(scope.body);
}

const allows = (rule: ScopeRule, name: string) => 'any' in rule || rule.scope === name;

function notHere(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'application/json', 'content-length': NOT_HERE.length });
  res.end(NOT_HERE);
}

/** Hands the request to the main thread; its answer is written when it comes (onAnswer). */
function ask(req: IncomingMessage, res: ServerResponse): void {
  Atomics.add(counters, COUNTER.asked, 1n);
  const headers: Record<string, string> = {};
  for (const name of ['authorization', 'if-none-match', 'x-forwarded-for'] as const) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const n = ++seq;
  waiting.set(n, { res, header: headers.authorization });
  post({ type: 'ask', seq: n, path: req.url ?? '/', headers, address: req.socket.remoteAddress });
}

function onMessage(message: ToThread): void {
  switch (message.type) {
    case 'answer': {
      const asked = waiting.get(message.seq);
      waiting.delete(message.seq);
      if (asked === undefined) return;
      const { res, header } = asked;
      if (header !== undefined && message.rule !== undefined)
        rules.set(header, { rule: message.rule, asked: false });
      const s = message.scope;
      if (s !== undefined && s.gone === undefined)
        scopes.set(s.name, { id: s.id, body: s.body, polledAt: Date.now() });
      if (res.headersSent || res.destroyed) return;
      const headers: Record<string, string> = {};
      for (const [k, v] of message.headers) headers[k] = v;
      res.writeHead(message.status, headers);
      res.end(message.body);
      return;
    }
    case 'rule':
      if (message.rule === undefined) rules.delete(message.header);
      else rules.set(message.header, { rule: message.rule, asked: false });
      return;
    case 'scopes':
      for (const s of message.list) {
        if (s.gone !== undefined) scopes.delete(s.name);
        else {
          const held = scopes.get(s.name);
          if (held !== undefined) {
            held.id = s.id;
            held.body = s.body;
          }
        }
      }
      return;
    case 'forget':
      rules.clear();
      return;
  }
}

function decoded(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

port.on('message', onMessage);
// Scopes nobody polls any more: dropped here, and no longer sent.
setInterval(
  () => {
    const since = Date.now() - data.idleMs;
    const names: string[] = [];
    for (const [name, s] of scopes)
      if (s.polledAt < since) {
        scopes.delete(name);
        names.push(name);
      }
    if (names.length > 0) post({ type: 'unwatch', names });
  },
  Math.max(100, data.idleMs / 3),
).unref();

const server = createServer({ keepAliveTimeout: 65_000 }, handle);
server.on('error', (err) => post({ type: 'listening', error: err.message }));
// exclusive: in a gateway worker of node:cluster the listen is this thread's own, not the primary's.
server.listen({ port: data.port, host: data.hostname, reusePort: true, exclusive: true }, () => {
  const address = server.address();
  post({ type: 'listening', port: typeof address === 'object' && address !== null ? address.port : 0 });
});
