/**
 * Reaching a service through a multiplexed tunnel: a TCP connection to the tunnel server's HTTP
 * CONNECT port, asking for the service's name (`CONNECT ssh-t-….tunnels:22 HTTP/1.1`) with the
 * tunnel's id and secret as `Proxy-Authorization`; once frps answers 200 the socket is the
 * service's (407: no or a wrong secret). `devicehub connect` wraps it for ssh's ProxyCommand.
 */
import { connect, type Socket } from 'node:net';
import { tunnelProxyAuth } from './secret.ts';

export interface ConnectViaOptions {
  /** Default 10 s. */
  readonly timeoutMs?: number;
  /** The tunnel's id and secret (from the open response); none: no Proxy-Authorization. */
  readonly auth?: { readonly tunnelId: string; readonly secret: string };
}

export async function connectVia(
  proxy: { host: string; port: number },
  target: string,
  options: ConnectViaOptions = {},
): Promise<Socket> {
  const { timeoutMs = 10_000, auth } = options;
  if (!/^[A-Za-z0-9_.:-]+:\d{1,5}$/.test(target))
    throw new RangeError(`target must be host:port, got "${target}"`);
  const authorization =
    auth === undefined ? '' : `Proxy-Authorization: ${tunnelProxyAuth(auth.tunnelId, auth.secret)}\r\n`;
  const socket = connect(proxy.port, proxy.host);
  socket.setTimeout(timeoutMs);
  return await new Promise<Socket>((resolve, reject) => {
    let head = Buffer.alloc(0);
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.once('timeout', () =>
      fail(new Error(`no answer from ${proxy.host}:${proxy.port} in ${timeoutMs} ms`)),
    );
    socket.once('error', fail);
    socket.once('connect', () =>
      socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${authorization}\r\n`),
    );
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'))?.[1];
      if (status === '404')
        return fail(
          new Error(
            `the tunnel server refused ${target}: HTTP 404, no such tunnel (or not for this tunnel id)`,
          ),
        );
      if (status === '407')
        return fail(
          new Error(`the tunnel server refused ${target}: HTTP 407, the tunnel's secret is missing or wrong`),
        );
      if (status !== '200')
        return fail(new Error(`the tunnel server refused ${target}: HTTP ${status ?? '?'}`));
      const rest = head.subarray(end + 4);
      // frps says 200 before it checks the password; a wrong one follows as a 407 and a close.
      if (/^HTTP\/1\.[01] 407/.test(rest.toString('latin1', 0, 12)))
        return fail(new Error(`the tunnel server refused ${target}: HTTP 407, the tunnel's secret is wrong`));
      socket.setTimeout(0);
      socket.off('error', fail);
      // Paused before the rest goes back: a stream left flowing with no reader hands a chunk put
      // back to nobody on the next tick. The SSH server speaks first, so its banner can come in
      // the same read as the 200; ssh without it failed "banner line contains invalid characters".
      socket.pause();
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    socket.on('data', onData);
  });
}
