/**
 * `connectVia` (the client side of a multiplexed tunnel, `devicehub connect`) hands on every byte
 * that came after the CONNECT answer. The SSH server speaks first: its banner may arrive in the
 * same read as frps's `200`, and it must reach the caller — ssh fails with "banner line contains
 * invalid characters" when the first thing it sees is the key exchange. A small TCP server plays
 * frps's part here (the answer and the banner in one write, which the real frps does on a loaded
 * machine); the real frps and sshd are in edge/agent/tunnels.test.ts.
 */
import assert from 'node:assert/strict';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { connectVia } from './connect-via.ts';

const BANNER = 'SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n';

/** A CONNECT proxy that answers 200 and the server's first bytes in one write, then echoes. */
async function proxyAnsweringWithBanner() {
  const server = createServer((socket) => {
    socket.once('data', () => {
      socket.write(`HTTP/1.1 200 OK\r\n\r\n${BANNER}`);
      socket.pipe(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The first `n` bytes read from `socket` as a pipe would read them (a later tick, as the CLI does). */
async function firstBytes(socket: Socket, n: number): Promise<string> {
  await new Promise((resolve) => setImmediate(resolve));
  let text = '';
  for await (const chunk of socket) {
    text += String(chunk);
    if (text.length >= n) break;
  }
  return text;
}

describe('connectVia', () => {
  // A lost banner leaves the read waiting for bytes that never come: the timeout fails it.
  it('hands on the bytes that came in the same read as the 200', { timeout: 10_000 }, async () => {
    await using proxy = await proxyAnsweringWithBanner();
    const socket = await connectVia({ host: '127.0.0.1', port: proxy.port }, 'ssh-t-1.tunnels:22');
    try {
      socket.write('after\n');
      assert.equal(await firstBytes(socket, BANNER.length + 6), `${BANNER}after\n`);
    } finally {
      socket.destroy();
    }
  });
});
