/**
 * Reaching a service through a multiplexed tunnel: a TCP connection to the tunnel server's HTTP
 * CONNECT port, asking for the service's name (`CONNECT ssh-t-….tunnels:22 HTTP/1.1`); once frps
 * answers 200 the socket is the service's. `devicehub connect` wraps it for ssh's ProxyCommand.
 */
import { connect, type Socket } from 'node:net';

export async function connectVia(
  proxy: { host: string; port: number },
  target: string,
  timeoutMs = 10_000,
): Promise<Socket> {
  if (!/^[A-Za-z0-9_.:-]+:\d{1,5}$/.test(target))
    throw new RangeError(`target must be host:port, got "${target}"`);
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
    socket.once('connect', () => socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'))?.[1];
      if (status !== '200')
        return fail(new Error(`the tunnel server refused ${target}: HTTP ${status ?? '?'}`));
      socket.setTimeout(0);
      socket.off('error', fail);
      const rest = head.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    socket.on('data', onData);
  });
}
