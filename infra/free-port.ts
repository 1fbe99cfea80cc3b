/** A TCP port free on loopback right now (the OS picks it). */
import { createConnection, createServer, type Server } from 'node:net';

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

/**
 * `count` distinct TCP ports free on loopback right now: all are held open until the last is
 * picked, so the OS cannot hand out one twice (calling `freePort` in a row can: a port closed a
 * moment ago is free again — seen in CI, a broker given the same port for two listeners, and two
 * of the cluster's job workers the same metrics port). Use it for every set of ports whose
 * processes start together: none has bound its port when the next is picked.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      server.unref();
      servers.push(server);
      ports.push(
        await new Promise<number>((resolve, reject) => {
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => {
            const address = server.address();
            if (typeof address === 'object' && address) resolve(address.port);
            else reject(new Error('no port'));
          });
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/** Whether `port` can be bound on loopback right now (it is closed again at once). */
export function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Whether something accepts TCP connections on a loopback port right now. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/**
 * Starts a server on `given`, or on a free port, trying another free port (3 in all) when the one
 * picked was taken before the server bound it: a port is free when `freePort` looks, but a
 * client's ephemeral port on loopback can take it before the server binds (seen in CI under the
 * demo: Prometheus `bind: address already in use`). A given port is tried once.
 */
export async function onFreePort<T>(
  given: number | undefined,
  start: (port: number) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const port = given ?? (await freePort());
    try {
      return await start(port);
    } catch (error) {
      const taken = /address already in use|EADDRINUSE/i.test(String((error as Error)?.message));
      if (given !== undefined || !taken || attempt >= 3) throw error;
    }
  }
}
