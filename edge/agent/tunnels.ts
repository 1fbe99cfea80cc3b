/**
 * The agent's tunnel executor: `tunnel.open` writes an frpc configuration (TOML, token auth over
 * TLS — frps's certificate checked against `caFile`, the fleet CA — one proxy per requested
 * service: tcp on the remote port the hub allocated, or — multiplexed — tcpmux over frps's one
 * HTTP CONNECT port under the name the hub chose, open only to a CONNECT that carries the
 * tunnel's id and secret from the command as proxy credentials) and starts frpc; the
 * command succeeds once frpc reports every proxy started, and fails with frpc's own words when it
 * cannot log in or a proxy is refused. A crashed frpc is started again until the tunnel expires;
 * at the expiry the agent stops it by itself (also when the hub is out of reach); `tunnel.close`
 * stops it; `stop()` (the agent exiting) stops them all, and a process exit kills any left.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { CommandExecutor } from './commands.ts';
import { AgentError } from './errors.ts';
import { type Logger, silentLogger } from './logger.ts';

export interface TunnelExecutorOptions {
  readonly edgeId: string;
  /** The frpc binary. */
  readonly frpc: string;
  /** frps `host:port` when the command names none. */
  readonly serverAddr?: string;
  /** frps's token (from the edge's configuration). */
  readonly token: string;
  /** The CA frps's certificate must chain to (PEM file: the fleet CA); none: frpc does not check it. */
  readonly caFile?: string;
  /** The name frps's certificate carries, when not the host edges dial. */
  readonly serverName?: string;
  /** What each service reaches on the edge's side, `host:port`: ssh, camera, console. */
  readonly services: Readonly<Record<string, string>>;
  /** Where frpc configurations are written. */
  readonly dir: string;
  /** How long frpc has to report its proxies started (default 20 s). */
  readonly startTimeoutMs?: number;
  readonly logger?: Logger;
}

interface OpenArgs {
  readonly tunnelId: string;
  readonly services: readonly { name: string; remotePort: number | null; host?: string }[];
  readonly expiresAt: number;
  readonly server?: string;
  /** Multiplexed: the tunnel's secret, frps's tcpmux `httpPassword` (user: the tunnel id). Never logged. */
  readonly secret?: string;
}

interface Running {
  child: ChildProcess | undefined;
  readonly expiry: ReturnType<typeof setTimeout>;
  closed: boolean;
  readonly proxies: string[];
  restarts: number;
}

function parseOpen(args: Readonly<Record<string, unknown>>): OpenArgs {
  const { tunnelId, services, expiresAt } = args as Partial<OpenArgs>;
  if (typeof tunnelId !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(tunnelId))
    throw new TypeError('tunnel.open: tunnelId must be 1..64 characters of [A-Za-z0-9_.:-]');
  if (!Array.isArray(services) || services.length === 0)
    throw new TypeError('tunnel.open: services must list at least one service');
  if (typeof expiresAt !== 'number') throw new TypeError('tunnel.open: expiresAt must be a time in ms');
  const { secret } = args as Partial<OpenArgs>;
  if (secret !== undefined && (typeof secret !== 'string' || !/^[A-Za-z0-9_-]{16,128}$/.test(secret)))
    throw new TypeError('tunnel.open: secret must be 16..128 characters of [A-Za-z0-9_-]');
  return args as unknown as OpenArgs;
}

export class TunnelExecutor implements AsyncDisposable {
  readonly #o: TunnelExecutorOptions;
  readonly #log: Logger;
  readonly #running = new Map<string, Running>();
  readonly #onExit = () => {
    for (const r of this.#running.values()) r.child?.kill('SIGKILL');
  };

  constructor(options: TunnelExecutorOptions) {
    this.#o = options;
    this.#log = (options.logger ?? silentLogger).child({ component: 'tunnels' });
    mkdirSync(options.dir, { recursive: true });
    process.once('exit', this.#onExit);
  }

  /** The executors to hand the agent. */
  get executors(): Record<string, CommandExecutor> {
    return {
      'tunnel.open': (args, signal) => this.open(parseOpen(args), signal),
      'tunnel.close': async (args) => ({ closed: this.close(String(args.tunnelId ?? '')) }),
    };
  }

  /** The pid of a tunnel's frpc, while one runs. */
  pid(tunnelId: string): number | undefined {
    return this.#running.get(tunnelId)?.child?.pid;
  }

  /** Tunnels with an frpc running now. */
  get openTunnels(): string[] {
    return [...this.#running].filter(([, r]) => r.child !== undefined).map(([id]) => id);
  }

  async open(args: OpenArgs, signal: AbortSignal): Promise<{ proxies: string[] }> {
    const existing = this.#running.get(args.tunnelId);
    if (existing !== undefined && !existing.closed) return { proxies: existing.proxies };
    const left = args.expiresAt - Date.now();
    if (left <= 0) throw new AgentError('TUNNEL_EXPIRED', 'the tunnel has expired already');
    const server = args.server ?? this.#o.serverAddr;
    if (server === undefined)
      throw new AgentError(
        'NO_TUNNEL_SERVER',
        'no tunnel server: neither the command nor the configuration names one',
      );
    const file = this.#writeConfig(args, server);
    const proxies = args.services.map((s) => this.#proxyName(args.tunnelId, s.name));
    const running: Running = {
      child: undefined,
      closed: false,
      proxies,
      restarts: 0,
      // The agent enforces the expiry itself: the hub's close may never arrive.
      expiry: setTimeout(() => {
        this.#log.info({ tunnelId: args.tunnelId }, 'tunnel expired; stopping frpc');
        this.close(args.tunnelId);
      }, left),
    };
    this.#running.set(args.tunnelId, running);
    try {
      await this.#start(running, { tunnelId: args.tunnelId, file, signal });
    } catch (error) {
      this.close(args.tunnelId);
      throw error;
    }
    return { proxies };
  }

  /** Stops the tunnel's frpc; false when there was none. */
  close(tunnelId: string): boolean {
    const r = this.#running.get(tunnelId);
    if (r === undefined) return false;
    r.closed = true;
    clearTimeout(r.expiry);
    r.child?.kill('SIGTERM');
    this.#running.delete(tunnelId);
    rmSync(join(this.#o.dir, `${tunnelId}.toml`), { force: true });
    return true;
  }

  #proxyName(tunnelId: string, service: string): string {
    return `${this.#o.edgeId}.${tunnelId}.${service}`;
  }

  #writeConfig(args: OpenArgs, server: string): string {
    const colon = server.lastIndexOf(':');
    if (colon < 1)
      throw new AgentError('BAD_TUNNEL_SERVER', `tunnel server must be host:port, got "${server}"`);
    const lines = [
      `serverAddr = ${JSON.stringify(server.slice(0, colon))}`,
      `serverPort = ${Number(server.slice(colon + 1))}`,
      'auth.method = "token"',
      `auth.token = ${JSON.stringify(this.#o.token)}`,
      'loginFailExit = true',
      // TLS to frps (frps refuses anything else); its certificate checked against the fleet CA.
      'transport.tls.enable = true',
      ...(this.#o.caFile === undefined
        ? []
        : [`transport.tls.trustedCaFile = ${JSON.stringify(this.#o.caFile)}`]),
      ...(this.#o.serverName === undefined
        ? []
        : [`transport.tls.serverName = ${JSON.stringify(this.#o.serverName)}`]),
      'log.to = "console"',
      'log.level = "info"',
    ];
    for (const s of args.services) {
      const target = this.#o.services[s.name];
      if (target === undefined) throw new AgentError('UNKNOWN_SERVICE', `this edge has no ${s.name} to open`);
      const at = target.lastIndexOf(':');
      lines.push(
        '',
        '[[proxies]]',
        `name = ${JSON.stringify(this.#proxyName(args.tunnelId, s.name))}`,
        `localIP = ${JSON.stringify(target.slice(0, at))}`,
        `localPort = ${Number(target.slice(at + 1))}`,
      );
      if (s.remotePort !== null) lines.push('type = "tcp"', `remotePort = ${s.remotePort}`);
      else if (typeof s.host === 'string') {
        // Multiplexed: frps's one HTTP CONNECT port routes by this name, for the secret's holder only.
        if (args.secret === undefined)
          throw new AgentError('BAD_SERVICE', `${s.name}: a multiplexed service needs the tunnel's secret`);
        lines.push(
          'type = "tcpmux"',
          'multiplexer = "httpconnect"',
          `customDomains = [${JSON.stringify(s.host)}]`,
          // Routed only for this user: frps answers 404 to any other before it says 200.
          `routeByHTTPUser = ${JSON.stringify(args.tunnelId)}`,
          `httpUser = ${JSON.stringify(args.tunnelId)}`,
          `httpPassword = ${JSON.stringify(args.secret)}`,
        );
      } else throw new AgentError('BAD_SERVICE', `${s.name}: neither a remote port nor a multiplexed name`);
    }
    const file = join(this.#o.dir, `${args.tunnelId}.toml`);
    writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
    return file;
  }

  /** Starts frpc and resolves once every proxy has started; restarts it if it dies later. */
  #start(
    r: Running,
    start: { tunnelId: string; file: string; signal?: AbortSignal | undefined },
  ): Promise<void> {
    const { tunnelId, file, signal } = start;
    const child = spawn(this.#o.frpc, ['-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    r.child = child;
    const pending = new Set(r.proxies);
    let tail = '';
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(
        () => settle(new Error(`frpc did not start its proxies in time: ${tail.trim().slice(-300)}`)),
        this.#o.startTimeoutMs ?? 20_000,
      );
      signal?.addEventListener('abort', () => settle(new Error('the open command reached its deadline')), {
        once: true,
      });
      for (const stream of [child.stdout!, child.stderr!]) {
        createInterface({ input: stream }).on('line', (line) => {
          tail = `${tail}\n${line}`.slice(-2000);
          for (const name of pending)
            if (line.includes(`[${name}] start proxy success`)) pending.delete(name);
          if (pending.size === 0) settle();
          const refused = /start error: (.*)$/.exec(line);
          if (refused) settle(new Error(`frpc: ${refused[1]}`));
          const login = /login to the server failed: (.*)$/.exec(line);
          // frpc words a TLS failure as a shut session: say what to check.
          if (login)
            settle(new Error(`frpc: login to the tunnel server failed: ${login[1]}${this.#tlsHint()}`));
        });
      }
      child.once('error', (error) => settle(error));
      child.once('exit', (code) => {
        settle(new Error(`frpc exited with ${code}: ${tail.trim().slice(-300)}`));
        if (r.closed || this.#running.get(tunnelId) !== r) return;
        // Crashed while the tunnel should be open: start it again (until it expires).
        r.child = undefined;
        r.restarts++;
        this.#log.warn({ tunnelId, code, restarts: r.restarts }, 'frpc exited; starting it again');
        setTimeout(
          () => {
            if (!r.closed)
              this.#start(r, { tunnelId, file }).catch((err) =>
                this.#log.warn({ err, tunnelId }, 'frpc restart failed'),
              );
          },
          Math.min(10_000, 500 * r.restarts),
        );
      });
    });
  }

  #tlsHint(): string {
    return this.#o.caFile === undefined
      ? ' (frpc speaks TLS; is the token right?)'
      : ` (is the token right, and is frps's certificate signed by the CA in ${this.#o.caFile}?)`;
  }

  /** Stops every frpc (the agent is exiting). */
  async stop(): Promise<void> {
    const children = [...this.#running.values()].flatMap((r) => (r.child ? [r.child] : []));
    for (const id of [...this.#running.keys()]) this.close(id);
    await Promise.all(
      children.map((c) =>
        c.exitCode !== null || c.signalCode !== null
          ? undefined
          : new Promise((resolve) => c.once('exit', resolve)),
      ),
    );
    process.off('exit', this.#onExit);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
