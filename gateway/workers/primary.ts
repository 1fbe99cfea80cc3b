/**
 * The primary of a gateway run as one process per core (`devicehub gateway --workers N`): it
 * forks N workers (node:cluster; each runs the whole gateway, sharing the listening port, which
 * the primary hands connections to round-robin), serves nothing itself, and:
 * - says it is ready (to a parent over IPC) once every worker is;
 * - forwards SIGTERM/SIGINT (a graceful stop: each worker runs its own bounded stop) and SIGHUP
 *   (the TLS certificate read again), and exits when the workers have, killing any past the limit;
 * - replaces a worker that dies after start-up (one that dies before it fails the start);
 * - answers a worker's metrics request with every worker's registry merged (cluster-metrics.ts).
 * Nothing the workers serve lives here: a lost primary takes its workers with it (their IPC
 * channel closes and they stop), and a balancer in front sees one gateway gone.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../../actors/mod.ts';
import { collectClusterMetrics, isMetricsRequest } from './cluster-metrics.ts';

export interface PrimaryOptions {
  readonly workers: number;
  readonly log: Logger;
  /** Longest graceful stop of a worker; the primary waits this and a little more, then kills. */
  readonly stopMs: number;
  /** Between a worker's death and its replacement (default 1 s). */
  readonly restartMs?: number;
  /** Added to every worker's environment (what they must share, e.g. a key file). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface GatewayPrimary {
  /** Resolves with the address the workers serve once every one of them is up. */
  readonly ready: Promise<{ url: string }>;
  /** Every worker stopped (SIGTERM, then SIGKILL past the limit). */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Forks the workers (this process must be the cluster's primary: `cluster.isPrimary`). */
export function startPrimary(o: PrimaryOptions): GatewayPrimary {
  const { log } = o;
  let stopping = false;
  let started = false;
  const urls = new Map<number, string>();
  let resolveReady: (value: { url: string }) => void = () => {};
  let rejectReady: (error: Error) => void = () => {};
  const ready = new Promise<{ url: string }>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  ready.catch(() => {});

  const fork = (): Worker => {
    const worker = cluster.fork({ ...o.env, DH_GATEWAY_WORKERS: String(o.workers) });
    worker.on('message', (message: unknown) => {
      if (isMetricsRequest(message)) {
        void collectClusterMetrics(Object.values(cluster.workers ?? {}).filter((w) => w !== undefined)).then(
          (text) => worker.send({ dh: 'metrics-text', id: message.id, text }),
        );
        return;
      }
      const m = message as { ready?: boolean; url?: string };
      if (m.ready !== true || typeof m.url !== 'string') return;
      urls.set(worker.id, m.url);
      if (!started && urls.size === o.workers) {
        started = true;
        log.info({ url: m.url, workers: o.workers }, 'gateway workers listening');
        resolveReady({ url: m.url });
      }
    });
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    urls.delete(worker.id);
    if (stopping) return;
    if (!started) {
      rejectReady(
        new Error(`gateway worker ${worker.process.pid} exited (${signal ?? code}) before it was up`),
      );
      void stop('SIGTERM');
      return;
    }
    log.error({ pid: worker.process.pid, code, signal }, 'gateway worker died; starting another');
    setTimeout(() => {
      if (!stopping) fork();
    }, o.restartMs ?? 1000).unref();
  });

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
    const exited = workers.map(
      (w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))),
    );
    for (const w of workers) if (!w.isDead()) w.process.kill(signal);
    const limit = setTimeout(() => {
      for (const w of workers) if (!w.isDead()) w.process.kill('SIGKILL');
    }, o.stopMs + 2000);
    await Promise.all(exited);
    clearTimeout(limit);
  };

  for (let i = 0; i < o.workers; i++) fork();
  return { ready, stop };
}

/**
 * The primary as `devicehub gateway` runs it: signals forwarded, ready told to a parent, exit
 * when the workers are gone (1 when they did not start).
 */
export async function runPrimary(o: PrimaryOptions): Promise<void> {
  const primary = startPrimary(o);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    o.log.info({ signal }, 'stopping the gateway workers');
    void primary.stop('SIGTERM').then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
  });
  // Started by a parent over IPC (tests, `devicehub cluster`): stop when it is gone.
  if (process.send !== undefined) process.once('disconnect', () => stop('SIGTERM'));
  try {
    const { url } = await primary.ready;
    process.send?.({ ready: true, url, workers: o.workers });
  } catch (error) {
    o.log.error({ err: error }, 'gateway workers did not start');
    await primary.stop('SIGKILL');
    process.exit(1);
  }
}
