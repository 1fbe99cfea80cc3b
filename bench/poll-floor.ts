/**
 * The floor of the screens' snapshot polls on this machine: the same paced load (screens-load.ts)
 * against a bare node:http server in a process of its own that answers each path like the
 * gateway's fast path does (a Map lookup, a 304 for a matching ETag, else the bytes), with no
 * DeviceHub code in between and nothing else feeding it. Its versions change as often as a
 * building's do in the bench (the read model's 250 ms tick). What the gateway, and everything
 * around it in the bench, adds is the difference between the bench's p99 and this one.
 *
 *   node --import tsx bench/poll-floor.ts <port> <scopes> <tilesPerScope>    (the server)
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { freePort, TS_NODE_ARGS, waitFor } from '../infra/mod.ts';
import { type PacedResult, runPacedLoad } from './scenarios/screens-load.ts';

const SELF = fileURLToPath(import.meta.url);

/** Measures the paced polls (`rate`/s for `seconds`) against the bare server. */
export async function measurePollFloor(o: {
  scopes: number;
  tilesPerScope: number;
  rate: number;
  seconds: number;
}): Promise<PacedResult> {
  const port = await freePort();
  const server = spawn(
    process.execPath,
    [...TS_NODE_ARGS, SELF, String(port), String(o.scopes), String(o.tilesPerScope)],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${url}/v1/screens/group:b-0`).catch(() => undefined))?.ok, {
      timeoutMs: 10_000,
      message: 'the poll floor server',
    });
    return await runPacedLoad({
      url,
      paths: Array.from({ length: o.scopes }, (_, i) => `/v1/screens/group:b-${i}`),
      headers: { authorization: 'Bearer floor' },
      rate: o.rate,
      seconds: o.seconds,
    });
  } finally {
    server.kill('SIGKILL');
  }
}

function serve(port: number, scopes: number, tiles: number): void {
  const tile = (i: number, v: number) =>
    `{"id":"E-${String(i).padStart(6, '0')}","floor":${v % 30},"direction":"up","door":"closed","people":${v % 8},"lastSeen":${Date.now()}}`;
  const versions = new Map<string, { id: number; json: string | undefined }>();
  for (let s = 0; s < scopes; s++) versions.set(`/v1/screens/group:b-${s}`, { id: 1, json: undefined });
  // Every tile once a second, coalesced as the read model does: each scope a new version every
  // 250 ms (its tickMs).
  setInterval(() => {
    for (const v of versions.values()) {
      v.id++;
      v.json = undefined;
    }
  }, 250);
  createServer((req, res) => {
    const v = versions.get(req.url ?? '');
    if (v === undefined) {
      res.writeHead(404).end();
      return;
    }
    const etag = `"${v.id}"`;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag, 'cache-control': 'no-cache' }).end();
      return;
    }
    v.json ??= `{"version":${v.id},"tiles":[${Array.from({ length: tiles }, (_, i) => tile(i, v.id)).join(',')}]}`;
    res
      .writeHead(200, {
        etag,
        'cache-control': 'no-cache',
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(v.json),
      })
      .end(v.json);
  }).listen(port, '127.0.0.1');
}

if (process.argv[1] === SELF)
  serve(Number(process.argv[2]), Number(process.argv[3]), Number(process.argv[4]));
