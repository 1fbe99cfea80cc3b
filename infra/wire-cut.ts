/**
 * A loopback TCP relay to one server that a fault test can cut at a chosen moment: it holds the
 * server's replies back (the server has run the commands; the client has not heard), then cuts
 * every connection so the held replies are lost. That is what a crash or a network cut does
 * between a server's work and its answer, made exact instead of left to timing: the client must
 * treat what it sent as possibly done.
 *
 *   await using wire = await startWireCut({ port: redisPort });
 *   const redis = connectRedis(`redis://127.0.0.1:${wire.port}`);
 *   wire.holdReplies('"id":"c2"'); // from the first reply that carries the awaited entry
 *   // … write the entry, wait until the server shows the work done …
 *   wire.cut(); // the held replies are gone; new connections relay normally again
 */
import { createConnection, createServer, type Socket } from 'node:net';

export interface WireCut extends AsyncDisposable {
  /** The relay's port on 127.0.0.1. */
  readonly port: number;
  /** Connections relayed so far. */
  readonly connections: number;
  /**
   * From now on the server's replies are kept from the clients (requests still go through); with
   * `from`, only from the first server chunk containing that text on. A client that polls would
   * otherwise lose the empty reply of a poll that ran before the awaited entry was written, and
   * wait on it forever instead of reading the entry.
   */
  holdReplies(from?: string): void;
  /** Closes every relayed connection, dropping the held replies; later connections relay normally. */
  cut(): void;
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  readonly server: Socket;
}

export async function startWireCut(target: { port: number; host?: string }): Promise<WireCut> {
  const host = target.host ?? '127.0.0.1';
  const pairs = new Set<Pair>();
  /** false: relaying; a string: relaying until a reply contains it, then holding; true: holding. */
  let hold: boolean | string = false;
  let connections = 0;
  const listener = createServer((client) => {
    connections++;
    const server = createConnection({ port: target.port, host });
    const pair = { client, server };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      server.destroy();
    };
    client.on('data', (chunk) => server.write(chunk));
    server.on('data', (chunk: Buffer) => {
      if (typeof hold === 'string' && chunk.includes(hold)) hold = true;
      if (hold !== true) client.write(chunk);
    });
    for (const s of [client, server]) {
      s.on('error', end);
      s.on('close', end);
    }
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', () => resolve());
  });
  const address = listener.address();
  if (address === null || typeof address === 'string') throw new Error('wire cut: no TCP port');
  const wire: WireCut = {
    port: address.port,
    get connections() {
      return connections;
    },
    holdReplies(from) {
      hold = from ?? true;
    },
    cut() {
      for (const { client, server } of pairs) {
        client.destroy();
        server.destroy();
      }
      pairs.clear();
      hold = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        wire.cut();
        listener.close(() => resolve());
      }),
    [Symbol.asyncDispose]: () => wire.close(),
  };
  return wire;
}
