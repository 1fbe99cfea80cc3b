/**
 * `devicehub connect --via HOST:PORT TARGET:PORT`: standard input and output through a
 * multiplexed tunnel (HTTP CONNECT to the tunnel server), for ssh's ProxyCommand:
 * `ssh -o ProxyCommand='devicehub connect --via tunnels.example.com:7002 %h:%p' root@ssh-t-….tunnels`.
 * (`nc -X connect -x HOST:PORT %h %p` from OpenBSD netcat does the same.)
 */
import { parseArgs } from 'node:util';
import { connectVia } from '../gateway/mod.ts';

export const connectHelp = `devicehub connect --via HOST:PORT TARGET:PORT   stdio through a multiplexed tunnel (ssh ProxyCommand)`;

export async function connectCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { via: { type: 'string' } },
  });
  const via = /^(.+):(\d{1,5})$/.exec(values.via ?? '');
  if (via === null || positionals[0] === undefined) throw new RangeError(`Usage: ${connectHelp}`);
  const socket = await connectVia({ host: via[1]!, port: Number(via[2]) }, positionals[0]);
  process.stdin.pipe(socket);
  socket.pipe(process.stdout);
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  process.exit(0);
}
