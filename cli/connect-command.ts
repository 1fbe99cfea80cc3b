/**
 * `devicehub connect --via HOST:PORT TARGET:PORT`: standard input and output through a
 * multiplexed tunnel (HTTP CONNECT to the tunnel server), for ssh's ProxyCommand:
 * `ssh -o ProxyCommand='devicehub connect --via tunnels.example.com:7002 %h:%p' root@ssh-t-….tunnels`,
 * with the tunnel's secret (from the open response) in DH_TUNNEL_SECRET; the tunnel id, the proxy
 * user, is read from the target's name.
 */
import { parseArgs } from 'node:util';
import { connectVia, tunnelIdOfHost } from '../gateway/mod.ts';

export const connectHelp = `devicehub connect --via HOST:PORT TARGET:PORT   stdio through a multiplexed tunnel (ssh ProxyCommand);
                                 the tunnel's secret from the open response in env DH_TUNNEL_SECRET`;

export async function connectCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { via: { type: 'string' } },
  });
  const via = /^(.+):(\d{1,5})$/.exec(values.via ?? '');
  if (via === null || positionals[0] === undefined) throw new RangeError(`Usage: ${connectHelp}`);
  const secret = process.env.DH_TUNNEL_SECRET;
  const tunnelId = tunnelIdOfHost(positionals[0]);
  const socket = await connectVia(
    { host: via[1]!, port: Number(via[2]) },
    positionals[0],
    secret === undefined || tunnelId === undefined ? {} : { auth: { tunnelId, secret } },
  );
  process.stdin.pipe(socket);
  socket.pipe(process.stdout);
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  process.exit(0);
}
