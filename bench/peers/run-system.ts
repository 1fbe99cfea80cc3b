/**
 * One system's run in the peers bench: its 2 workers, the producer for warm-up + measured window
 * + kill phase, CPU of the workers only (from /proc) over the measured window with Redis's and
 * the broker's beside it, then a kill -9 of worker 1, started again after a fixed delay, the
 * load's end, a drain past every system's recovery time, and the tally of the edges' states.
 */
import { Histogram } from '../../actors/mod.ts';
import type { Bus } from '../../bus/mod.ts';
import { processCpuMicros } from '../proc-cpu.ts';
import { spawnPeerProcess } from './peer-process.ts';
import { Sampler } from './sampler.ts';
import type { PeerSystem } from './state-store.ts';
import { type SystemSetup, systemWorkers } from './systems.ts';
import { type Acked, readStates, type Tally, tally } from './tally.ts';

export interface RunOptions {
  readonly edges: number;
  /** The measured window (s). */
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** Load after the kill (s): the killed worker is started again `restartSeconds` into it. */
  readonly killPhaseSeconds: number;
  readonly restartSeconds: number;
  /** Longest wait for the states to account for every acknowledged message after the load. */
  readonly drainSeconds: number;
}

export const WORKERS = 2;

export interface SystemResult extends Tally {
  readonly name: PeerSystem;
  readonly workers: number;
  readonly msgs: number;
  readonly msgsPerSec: number;
  readonly cpuMicrosPerMsg: number;
  readonly redisCpuMicrosPerMsg: number;
  readonly brokerCpuMicrosPerMsg: number | null;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** p99 from the kill to the end of the load. */
  readonly p99AfterKillMs: number;
  readonly sent: number;
  readonly acked: number;
  /** Seconds from the load's end until the states held every acknowledged message (or the drain gave up). */
  readonly drainSeconds: number;
  /** After the drain: what the queue still holds (stillQueued) and, for BullMQ, its failed jobs. */
  readonly queueAtEnd?: Record<string, number>;
  /** Acknowledged messages in no state after the drain, still queued ones included. */
  readonly missing: number;
  /** Applied msgs/s and p99 per second over the run, for the plot. */
  readonly timeline: { readonly t: number; readonly msgsPerSec: number; readonly p99Ms: number }[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (n: number, digits = 2) => Number(n.toFixed(digits));

export async function runSystem(
  system: PeerSystem,
  setup: SystemSetup & { readonly redisPid: number | undefined; readonly brokerPid?: number },
  o: RunOptions,
): Promise<SystemResult> {
  const { bus } = setup;
  await bus.redis.flushall();
  await using workers = systemWorkers(system, setup);
  await Promise.all(Array.from({ length: WORKERS }, (_, k) => workers.start(k)));
  const sampler = new Sampler(system, () => workers.snapshots());
  const loadSeconds = o.warmupSeconds + o.seconds + o.killPhaseSeconds;
  const producerArgs = ['--system', system, '--redis', setup.redisUrl, '--edges', String(o.edges)];
  if (setup.broker !== undefined) producerArgs.push('--brokers', setup.broker);
  const producer = spawnPeerProcess('./producer.ts', [...producerArgs, '--seconds', String(loadSeconds)]);
  try {
    sampler.start();
    await sleep(o.warmupSeconds * 1000);
    const cpu = () => ({
      workers: workers.pids().reduce<number>((sum, pid) => sum + processCpuMicros(pid), 0),
      redis: processCpuMicros(setup.redisPid),
      broker: processCpuMicros(setup.brokerPid),
    });
    const from = { t: sampler.now(), ...cpu() };
    await sleep(o.seconds * 1000);
    const to = { t: sampler.now(), ...cpu() };
    await workers.kill9(0);
    const killedAt = sampler.now();
    await sleep(o.restartSeconds * 1000);
    // Started again while the load goes on; it may take work only once its group has settled.
    const restarted = workers.start(0);
    const done = (await producer.line('done')) as unknown as Acked & { sent: number; acked: number };
    const loadEnd = sampler.now();
    await restarted;
    const drained = await drain(bus, system, o, done);
    const queueAtEnd = await workers.queueCounts();
    sampler.stop();
    const window = sampler.between(from.t, to.t);
    const afterKill = sampler.between(killedAt, loadEnd);
    const msgs = Math.max(1, window.handled);
    return {
      name: system,
      workers: WORKERS,
      msgs: window.handled,
      msgsPerSec: Math.round(window.handled / (to.t - from.t)),
      cpuMicrosPerMsg: round((to.workers - from.workers) / msgs),
      redisCpuMicrosPerMsg: round((to.redis - from.redis) / msgs),
      brokerCpuMicrosPerMsg: setup.brokerPid === undefined ? null : round((to.broker - from.broker) / msgs),
      p50Ms: round(window.latency.quantile(0.5), 1),
      p99Ms: round(window.latency.quantile(0.99), 1),
      maxMs: round(window.latency.max, 1),
      p99AfterKillMs: round(afterKill.latency.quantile(0.99), 1),
      sent: done.sent,
      acked: done.acked,
      drainSeconds: round(drained.seconds, 1),
      ...drained.tally,
      // Lost: acknowledged, in no state, and not still waiting in the queue to be applied.
      missing: drained.tally.lost,
      lost: Math.max(0, drained.tally.lost - (queueAtEnd?.stillQueued ?? 0)),
      ...(queueAtEnd === undefined ? {} : { queueAtEnd }),
      timeline: sampler.seconds.map((s) => ({
        t: round(s.t, 1),
        msgsPerSec: s.handled,
        p99Ms: round(Histogram.from(s.latency).quantile(0.99), 1),
      })),
    };
  } finally {
    sampler.stop();
    await producer.kill('SIGKILL');
  }
}

/**
 * Reads the states every 2 s until they hold every acknowledged message, or nothing has moved
 * for 20 s (longer than BullMQ's stalled check + lock, Kafka's session timeout and DeviceHub's
 * lease and checkpoint interval), or `drainSeconds` have passed.
 */
async function drain(bus: Bus, system: PeerSystem, o: RunOptions, acked: Acked & { acked: number }) {
  const start = Date.now();
  let result = tally(await readStates(bus, system, o.edges), acked);
  let moved = Date.now();
  while (Date.now() - start < o.drainSeconds * 1000 && result.lost > 0 && Date.now() - moved < 20_000) {
    await sleep(2000);
    const next = tally(await readStates(bus, system, o.edges), acked);
    if (next.applied !== result.applied) moved = Date.now();
    result = next;
  }
  return { tally: result, seconds: (Date.now() - start) / 1000 };
}
