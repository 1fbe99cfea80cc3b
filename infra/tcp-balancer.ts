/**
 * A round-robin TCP balancer on loopback: what HAProxy is to the compose deployment, for
 * `devicehub cluster` (gateways behind one address). A backend that refuses the connection is
 * skipped for the next one, so a gateway restarting loses no request that can go elsewhere.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TcpBalancer extends AsyncDisposable {
  readonly port: number;
  /** Connections handed to each backend so far, by `host:port`. */
  readonly served: Record<string, number>;
  close(): Promise<void>;
}

export async function startTcpBalancer(o: {
  port: number;
  host?: string;
  backends: readonly { host: string; port: number }[];
}): Promise<TcpBalancer> {
  if (o.backends.length === 0) throw new RangeError('Cannot balance: no backends');
  const served: Record<string, number> = {};
  const sockets = new Set<Socket>();
  let next = 0;
  const connect = (client: Socket, tries: number) => {
    const backend = o.backends[next++ % o.backends.length]!;
    const upstream = createConnection(backend);
    sockets.add(upstream);
    upstream.once('close', () => sockets.delete(upstream));
    upstream.once('connect', () => {
      const key = `${backend.host}:${backend.port}`;
      served[key] = (served[key] ?? 0) + 1;
      client.pipe(upstream).pipe(client);
      client.resume();
    });
    upstream.once('error', () => {
      if (upstream.connecting && tries + 1 < o.backends.length) {
        connect(client, tries + 1);
      } else {
        client.destroy();
      }
    });
    client.once('error', () => upstream.destroy());
    client.once('close', () => upstream.destroy());
  };
  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    connect(client, 0);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const balancer: TcpBalancer = {
    port: typeof address === 'object' && address ? address.port : o.port,
    served,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
    [Symbol.asyncDispose]: () => balancer.close(),
  };
  return balancer;
}
