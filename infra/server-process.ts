/**
 * A server the suite runs as a child process and may kill or restart on the same port and data
 * (brokers in fault tests): started, then up once its port answers (failing as soon as it exits
 * instead); stopped by a signal, waiting for it to exit, and killed when it has not within
 * `stopTimeoutMs`. Its `exitSignal` ends any later readiness wait the moment it exits.
 */
import type { ChildProcess } from 'node:child_process';
import { portOpen } from './free-port.ts';
import { waitFor } from './wait-for.ts';

export interface ServerProcess {
  /** The process id while it runs. */
  readonly pid: number | undefined;
  /**
   * Aborted when the process last started exits, with an Error that says how (`describeExit`):
   * give it to a wait for its readiness (`waitFor`'s `signal`), which then fails at once instead
   * of at its deadline. A Prometheus that could not bind its port exits at once, while another
   * process answering on that port kept its readiness wait going for its whole 30 s.
   */
  readonly exitSignal: AbortSignal;
  kill(): Promise<void>;
  /** Stops it (its stop signal) if it runs and starts it again. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts `spawnServer()` and waits for `port` (and every one of `morePorts`) to answer (failing
 * with `describeExit(code)` if it exits first).
 */
export async function startServerProcess(o: {
  name: string;
  port: number;
  /**
   * Other listeners it opens, each waited for too: a server binds its listeners one after
   * another (mosquitto's TLS ones after its plain one, certificates loaded first), and a client of
   * a later one must not find it closed.
   */
  morePorts?: readonly number[];
  spawnServer: () => ChildProcess;
  describeExit: (code: number | null) => string;
  timeoutMs?: number;
  /** How `stop` and `restart` ask it to end (default SIGTERM). */
  stopSignal?: NodeJS.Signals;
  /**
   * How long a stop waits before it kills (default 15 s): a server may refuse its stop signal
   * (redis-server does while a replica writes its initial AOF), and a test must not hang on it.
   */
  stopTimeoutMs?: number;
}): Promise<ServerProcess> {
  const stopSignal = o.stopSignal ?? 'SIGTERM';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let exitSignal = AbortSignal.abort(new Error(`${o.name} not started`));
  const launch = async () => {
    const proc = o.spawnServer();
    child = proc;
    exitSignal = exitSignalOf(proc, o.describeExit);
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const ports = [o.port, ...(o.morePorts ?? [])];
    await waitFor(async () => (await Promise.all(ports.map(portOpen))).every(Boolean), {
      timeoutMs: o.timeoutMs ?? 30_000,
      intervalMs: 25,
      message: `${o.name} on port ${ports.join(', ')}`,
      signal: exitSignal,
    });
  };
  const stop = async (signal: NodeJS.Signals) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    if (signal === 'SIGKILL') return exited;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const refused = new Promise<'refused'>((resolve) => {
      timer = setTimeout(() => resolve('refused'), o.stopTimeoutMs ?? 15_000);
    });
    const outcome = await Promise.race([exited, refused]);
    clearTimeout(timer);
    if (outcome === 'refused') {
      child.kill('SIGKILL');
      await exited;
    }
  };
  await launch();
  return {
    get pid() {
      return child?.pid;
    },
    get exitSignal() {
      return exitSignal;
    },
    kill: () => stop('SIGKILL'),
    restart: async () => {
      await stop(stopSignal);
      await launch();
    },
    stop: () => stop(stopSignal),
  };
}

/**
 * Aborted when `proc` exits (at once if it has), with an Error saying how (`describe`): given to
 * a wait for it (`waitFor`'s `signal`), the wait fails then instead of polling to its deadline.
 */
export function exitSignalOf(proc: ChildProcess, describe: (code: number | null) => string): AbortSignal {
  const gone = new AbortController();
  const onExit = (code: number | null) => gone.abort(new Error(describe(code)));
  if (proc.exitCode !== null) onExit(proc.exitCode);
  else proc.once('exit', onExit);
  return gone.signal;
}

/** `fields` with the process's controls (pid, kill, restart, stop) and `await using` support. */
export function withControls<T extends object>(
  proc: ServerProcess,
  fields: T,
): T & ServerProcess & AsyncDisposable {
  return Object.defineProperties(fields, {
    pid: { get: () => proc.pid, enumerable: true },
    exitSignal: { get: () => proc.exitSignal },
    kill: { value: proc.kill },
    restart: { value: proc.restart },
    stop: { value: proc.stop },
    [Symbol.asyncDispose]: { value: proc.stop },
  }) as T & ServerProcess & AsyncDisposable;
}

/**
 * `server` with `await using` doing `dispose` instead: a new object that inherits every field and
 * control of `server` (whose own are read-only: see `withControls`, never assign onto it).
 */
export function withDisposer<T extends object>(server: T, dispose: () => Promise<void>): T & AsyncDisposable {
  return Object.create(server, { [Symbol.asyncDispose]: { value: dispose } }) as T & AsyncDisposable;
}
