/**
 * What a TCP connect() costs the connecting process as connections pile up on one loopback
 * listener: from one source address (the system picks the port), or each connection from its own
 * 127/8 address (as the simulator's edges do, edge/sim/source-address.ts). A server process holds
 * every connection; this process opens them `batch` at a time and reports its own user and system
 * CPU per connect for each `step` of connections. No MQTT: the kernel's share alone (decision 057).
 *
 *   node --import tsx bench/connect-cost.ts [--connections 18000] [--step 3000]
 *
 * A process here may hold 20,000 files (`ulimit -n`), so at most ~19,000 connections per run.
 */
import { fork } from 'node:child_process';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loopbackSourceOf } from '../edge/sim/source-address.ts';

export type SourceMode = 'one address' | 'own address';

export interface ConnectCostRow {
  readonly mode: SourceMode;
  /** Connections open at the end of this step. */
  readonly open: number;
  readonly userMicros: number;
  readonly systemMicros: number;
  /** Distinct local addresses among the open connections. */
  readonly sources: number;
}

const SELF = fileURLToPath(import.meta.url);

/** The server half (run in a child): one loopback listener holding every connection, paused. */
function serve(): void {
  const held: Socket[] = [];
  const server = createServer({ pauseOnConnect: true }, (socket) => held.push(socket));
  server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () =>
    process.send!({ port: (server.address() as AddressInfo).port }),
  );
  process.once('disconnect', () => process.exit(0));
}

/** Opens `connections` to a fresh server in `mode`, `batch` at a time; a row per `step`. */
export async function measureConnects(
  mode: SourceMode,
  o: { connections: number; step: number; batch?: number },
): Promise<ConnectCostRow[]> {
  const batch = o.batch ?? 250;
  const server = fork(SELF, ['--serve'], {
    execArgv: process.execArgv,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const sockets: Socket[] = [];
  try {
    const { port } = await new Promise<{ port: number }>((resolve, reject) => {
      server.once('message', (m) => resolve(m as { port: number }));
      server.once('exit', (code) => reject(new Error(`connect-cost server exited (${code})`)));
    });
    const rows: ConnectCostRow[] = [];
    let cpu = process.cpuUsage();
    let since = 0;
    for (let i = 0; i < o.connections; i += batch) {
      const n = Math.min(batch, o.connections - i);
      await Promise.all(
        Array.from(
          { length: n },
          (_, k) =>
            new Promise<void>((resolve, reject) => {
              const localAddress = mode === 'own address' ? loopbackSourceOf(i + k) : undefined;
              const socket = connect(
                { port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) },
                resolve,
              );
              socket.once('error', reject);
              sockets.push(socket);
            }),
        ),
      );
      const open = i + n;
      if (open - since >= o.step || open === o.connections) {
        const used = process.cpuUsage(cpu);
        const count = open - since;
        const sources = new Set(sockets.map((s) => s.localAddress)).size;
        rows.push({ mode, open, userMicros: used.user / count, systemMicros: used.system / count, sources });
        cpu = process.cpuUsage();
        since = open;
      }
    }
    return rows;
  } finally {
    for (const s of sockets) s.destroy();
    server.kill('SIGKILL');
  }
}

/** The markdown table of both modes, side by side per step. */
export function connectCostTable(rows: readonly ConnectCostRow[]): string {
  const opens = [...new Set(rows.map((r) => r.open))];
  const cell = (mode: SourceMode, open: number) => {
    const r = rows.find((x) => x.mode === mode && x.open === open);
    return r === undefined ? '—' : `${r.systemMicros.toFixed(0)} (+${r.userMicros.toFixed(0)} user)`;
  };
  return [
    '| connections open | one source address: µs system per connect | own address each |',
    '| ---: | ---: | ---: |',
    ...opens.map(
      (open) =>
        `| ${open.toLocaleString('en')} | ${cell('one address', open)} | ${cell('own address', open)} |`,
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { connections: { type: 'string', default: '18000' }, step: { type: 'string', default: '3000' } },
  });
  const connections = Number(values.connections);
  const step = Number(values.step);
  if (!(Number.isInteger(connections) && connections > 0 && Number.isInteger(step) && step > 0))
    throw new RangeError('connect-cost: --connections and --step must be positive integers');
  const rows: ConnectCostRow[] = [];
  for (const mode of ['one address', 'own address'] as const) {
    process.stderr.write(`connect-cost: ${connections} connections from ${mode}…\n`);
    rows.push(...(await measureConnects(mode, { connections, step })));
  }
  process.stdout.write(`${connectCostTable(rows)}\n`);
}

if (process.argv.includes('--serve')) serve();
else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
