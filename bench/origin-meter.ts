/**
 * A byte meter in front of the artifact origin: a TCP forwarder on a free loopback port that the
 * CDN caches use as their origin, counting every byte the origin sends back (bodies and headers).
 * What the origin served, measured on the wire, whatever the caches log.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface OriginMeter extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`: give it to the caches as their origin. */
  readonly url: string;
  /** Bytes the origin has sent through the meter so far. */
  readonly bytes: () => number;
}

/** Forwards to `origin` (`http://host:port`). */
export async function startOriginMeter(origin: string): Promise<OriginMeter> {
  const { hostname, port } = new URL(origin);
  let bytes = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect({ host: hostname, port: Number(port) });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('origin meter: no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    bytes: () => bytes,
    async [Symbol.asyncDispose]() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
