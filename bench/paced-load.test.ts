/**
 * The paced load (bench/scenarios/screens-load.ts) against a small real HTTP server that stalls
 * once: latency counts from when each request was due (the requests due during the stall show it,
 * not only the few in flight), no more connections than asked for are opened, every due request is
 * sent once, and a backlog's polls carry their path's latest ETag (304s), not the one it held when
 * they fell due.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { runPacedLoad } from './scenarios/screens-load.ts';

test('the paced load counts from when each was due, and a backlog goes out with the latest ETag', async () => {
  let version = 1;
  let requests = 0;
  let stalled = false;
  const sockets = new Set<unknown>();
  let maxSockets = 0;
  const server = createServer((req, res) => {
    requests++;
    // Once, well into the measured offer: the event loop held for 300 ms (600 requests fall due).
    if (!stalled && requests === 2500) {
      stalled = true;
      const until = Date.now() + 300;
      while (Date.now() < until);
    }
    const etag = `"${version}"`;
    if (req.headers['if-none-match'] === etag) res.writeHead(304, { etag }).end();
    else res.writeHead(200, { etag, 'content-type': 'application/json' }).end('{"tiles":[]}');
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    maxSockets = Math.max(maxSockets, sockets.size);
    socket.on('close', () => sockets.delete(socket));
  });
  const bump = setInterval(() => version++, 100);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const result = await runPacedLoad({
      url: `http://127.0.0.1:${port}`,
      paths: ['/v1/screens/fleet'],
      headers: {},
      rate: 2000,
      seconds: 2,
      connections: 8,
      warmupSeconds: 0.5,
    });
    assert.ok(stalled, 'the server stalled');
    assert.equal(result.sent, 4000);
    assert.equal(result.errors, 0);
    assert.equal((result.statuses['200'] ?? 0) + (result.statuses['304'] ?? 0), 4000);
    assert.ok(maxSockets <= 8, `${maxSockets} connections open at once`);
    // ~600 of 4,000 fell due during the stall and waited up to 300 ms: the top 1 % is near 300.
    assert.ok(result.latencyMs.p99 >= 150, `p99 ${result.latencyMs.p99} ms`);
    // 20 versions in the run, each a 200 for at most the 8 requests in flight when it changed;
    // requests made when due would have held the stale ETag through the stall: 600 more 200s.
    assert.ok((result.statuses['200'] ?? 0) < 300, `statuses ${JSON.stringify(result.statuses)}`);
  } finally {
    clearInterval(bump);
    server.closeAllConnections();
    server.close();
  }
});
