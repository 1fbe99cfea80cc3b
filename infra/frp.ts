/**
 * frp (github.com/fatedier/frp), built from its Go module by `infra/provision.sh` into the cache
 * at the version `infra/frp/go.mod` requires: where the binaries are, and an frps on loopback for
 * tests, the demo and benchmarks (token auth, TLS only when given a certificate, a range of remote
 * ports, its dashboard API for counting connections).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from './free-port.ts';
import { type ServerProcess, startServerProcess, withControls } from './server-process.ts';

/** The frp version the project builds (from infra/frp/go.mod). */
export function frpVersion(): string {
  const goMod = readFileSync(new URL('./frp/go.mod', import.meta.url), 'utf8');
  const version = /^require github\.com\/fatedier\/frp (v[\d.]+)$/m.exec(goMod)?.[1];
  if (version === undefined) throw new Error('infra/frp/go.mod does not require github.com/fatedier/frp');
  return version;
}

/** The path of `frps` or `frpc`; throws with what to run when it is not built yet. */
export function frpBinary(name: 'frps' | 'frpc'): string {
  const dir = join(
    process.env.DEVICEHUB_CACHE ?? join(homedir(), '.cache', 'devicehub'),
    `frp-${frpVersion()}`,
  );
  const path = join(dir, name);
  if (!existsSync(path))
    throw new Error(
      `Cannot find ${name} ${frpVersion()} at ${path}. Run \`sh infra/provision.sh\` (it builds frp with Go).`,
    );
  return path;
}

export interface FrpsOptions {
  /** Shared secret of frps and its clients. */
  readonly token: string;
  /** Remote ports clients may ask for (default: any). */
  readonly allowPorts?: { readonly low: number; readonly high: number };
  /** Also serve tcpmux over HTTP CONNECT on one port: any number of tunnels, one public port. */
  readonly tcpmux?: boolean;
  /**
   * frps's certificate and key (PEM files, e.g. `startTestPki().server`): frpc must then speak TLS
   * (`transport.tls.force`); a plain frpc is refused.
   */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

export interface FrpsServer extends ServerProcess, AsyncDisposable {
  /** `127.0.0.1:<port>`: where frpc connects. */
  readonly address: string;
  readonly bindPort: number;
  /** The HTTP CONNECT port of tcpmux, when enabled. */
  readonly tcpmuxPort: number | undefined;
  readonly dir: string;
  /** Its dashboard API (`/api/serverinfo`, `/api/proxy/tcp`), basic auth admin:admin. */
  readonly apiUrl: string;
  /** Client connections frps has now and proxies by status, from its API. */
  info(): Promise<{ clientCounts: number; curConns: number; proxyTypeCount: Record<string, number> }>;
}

export async function startFrps(options: FrpsOptions): Promise<FrpsServer> {
  const frps = frpBinary('frps');
  const dir = mkdtempSync(join(tmpdir(), 'dh-frps-'));
  const picked = await freePorts(options.tcpmux ? 3 : 2);
  const [bindPort, apiPort] = [picked[0]!, picked[1]!];
  const tcpmuxPort = picked[2];
  const lines = [
    'bindAddr = "127.0.0.1"',
    `bindPort = ${bindPort}`,
    'proxyBindAddr = "127.0.0.1"',
    'auth.method = "token"',
    `auth.token = ${JSON.stringify(options.token)}`,
    'webServer.addr = "127.0.0.1"',
    `webServer.port = ${apiPort}`,
    'webServer.user = "admin"',
    'webServer.password = "admin"',
    'log.to = "console"',
    'log.level = "info"',
  ];
  if (options.allowPorts)
    lines.push(`allowPorts = [{ start = ${options.allowPorts.low}, end = ${options.allowPorts.high} }]`);
  if (tcpmuxPort !== undefined) lines.push(`tcpmuxHTTPConnectPort = ${tcpmuxPort}`);
  if (options.tls)
    lines.push(
      'transport.tls.force = true',
      `transport.tls.certFile = ${JSON.stringify(options.tls.certFile)}`,
      `transport.tls.keyFile = ${JSON.stringify(options.tls.keyFile)}`,
    );
  writeFileSync(join(dir, 'frps.toml'), `${lines.join('\n')}\n`);
  const proc = await startServerProcess({
    name: 'frps',
    port: bindPort,
    timeoutMs: 10_000,
    spawnServer: () => spawn(frps, ['-c', join(dir, 'frps.toml')], { stdio: 'ignore' }),
    describeExit: (code) => `frps exited with ${code}; config in ${dir}/frps.toml`,
  });
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const fields = {
    address: `127.0.0.1:${bindPort}`,
    bindPort,
    tcpmuxPort,
    dir,
    apiUrl,
    async info() {
      const res = await fetch(`${apiUrl}/api/serverinfo`, {
        headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` },
      });
      return (await res.json()) as {
        clientCounts: number;
        curConns: number;
        proxyTypeCount: Record<string, number>;
      };
    },
  };
  return withControls(proc, fields);
}
