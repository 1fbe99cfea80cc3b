/**
 * patches/postgres+3.4.9.patch against a real PostgreSQL: a connection that dies while postgres.js
 * fetches its array types (the first query of every new connection) fails the query waiting on
 * it, and nothing else. Unpatched, the driver dropped that fetch's promise and the same error
 * also escaped as an unhandled rejection (porsager/postgres#1192), which ends a Node process: a
 * gateway would exit when the database restarted under a connection that was starting. A clean
 * CI run met it once, in the read router's test (the replica stopped and started under it).
 *
 * The connection is cut by a small TCP proxy in front of the server, at the moment the driver
 * sends that query, with a reset (what a killed server's socket gives).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { describe, it } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { startPostgres } from '../../infra/mod.ts';
import { openDatabase } from './database.ts';
import { rowsOf } from './replica-probe.ts';

/** Forwards to `port`; the first connection that sends the array-types query is reset. */
async function typesCuttingProxy(port: number): Promise<{ port: number; cuts: () => number; close(): void }> {
  let cuts = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = tcpConnect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.on('data', (chunk: Buffer) => {
      if (cuts === 0 && chunk.includes('pg_catalog.pg_type')) {
        cuts++;
        upstream.destroy();
        client.resetAndDestroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    cuts: () => cuts,
    close: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

describe('postgres.js, patched', () => {
  it('fails the waiting query, and no more, when a connection dies while it fetches its types', async () => {
    await using pg = await startPostgres();
    const target = new URL(pg.url);
    const proxy = await typesCuttingProxy(Number(target.port));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      target.port = String(proxy.port);
      // readOnly: no migrations, so the first query is this test's own.
      await using database = await openDatabase({ url: target.href, readOnly: true });
      // drizzle's error, the driver's as its cause.
      await assert.rejects(database.db.execute(sql`select 1 as one`), (err: Error) =>
        /ECONNRESET|CONNECTION_CLOSED/.test(String(err.cause)),
      );
      assert.equal(proxy.cuts(), 1, 'the proxy cut the connection at the types query');
      // The next query gets a new connection, which fetches its types and answers.
      const [row] = rowsOf<{ one: number }>(await database.db.execute(sql`select 1 as one`));
      assert.equal(row?.one, 1);
      // Node reports an unhandled rejection once the microtasks of the turn that made it have run:
      // one more turn of the event loop and any from the cut connection has been reported.
      await setImmediate();
      assert.deepEqual(unhandled.map(String), [], 'nothing escaped as an unhandled rejection');
    } finally {
      process.off('unhandledRejection', onUnhandled);
      proxy.close();
    }
  });
});
