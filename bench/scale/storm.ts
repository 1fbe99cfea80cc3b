/**
 * The reconnect storm, as an area power cut: every broker shard restarted at once with SIGTERM
 * (mosquitto saves the links' sessions, their plain subscriptions and the QoS 1 messages queued
 * for them), every edge reconnecting with jittered backoff, and 1 % of the fleet raising an alarm
 * (QoS 1) within 10 s from the restart on — sent as soon as each edge is back. QoS 0 is held back
 * from just before the restart until every edge is back, so what the hub must account for is
 * what the brokers acknowledged. Measured: the restart itself, until every edge is back, and
 * until the hub's p99 (per second) is under 100 ms again, all from the restart's start.
 */
import { waitFor } from '../../infra/mod.ts';
import type { Monitor } from '../monitor.ts';
import type { BrokerShards } from './shards.ts';
import type { SimFleet } from './sim-fleet.ts';
import { readTcpCounters, type TcpCounters, tcpCountersSince } from './tcp-counters.ts';

export interface StormResult {
  /** Edges connected once it was over. */
  readonly edges: number;
  /** SIGTERM of every shard until every one listens again. */
  readonly restartMs: number;
  /** From the restart until every edge was connected again (null: not within the deadline). */
  readonly allBackMs: number | null;
  /** From the restart until a second whose hub p99 was under 100 ms, after every edge was back. */
  readonly hubP99BackMs: number | null;
  /** The host's TCP counters from the restart until every edge was back (tcp-counters.ts). */
  readonly tcp: TcpCounters | undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function reconnectStorm(o: {
  edges: number;
  shards: BrokerShards;
  fleet: SimFleet;
  monitor: Monitor;
  /** How long the edges get to come back. */
  deadlineMs: number;
  /** Messages the hub nodes have handled so far. */
  handled: () => Promise<number>;
}): Promise<StormResult> {
  const { fleet, monitor } = o;
  fleet.quiet(true);
  // What was sent before the quiet is through the brokers and the links before the brokers stop:
  // QoS 0 messages a link has read but not yet taken when its connection drops are gone (at most
  // once), and so are those a broker still queues for it.
  await sleep(500);
  await waitFor(async () => (await o.handled()) >= fleet.now().sent, {
    timeoutMs: 30_000,
    intervalMs: 250,
  }).catch(() => {});
  await sleep(500);
  const reconnectsBefore = fleet.now().reconnects;
  const start = Date.now();
  const tcpBefore = readTcpCounters();
  fleet.alarmStorm();
  await o.shards.restartAll();
  const restartMs = Date.now() - start;
  let allBackMs: number | null = null;
  try {
    // Every edge has reconnected once (the per-second reports say so; `connected` alone may
    // still be the count from before the drop).
    await waitFor(() => fleet.now().reconnects - reconnectsBefore >= o.edges, {
      timeoutMs: o.deadlineMs,
      intervalMs: 100,
      message: 'every edge back after the brokers restarted',
    });
    allBackMs = Date.now() - start;
  } catch {
    // Reported as null, with the edges that did come back.
  }
  const tcpAfter = readTcpCounters();
  const tcp = tcpBefore && tcpAfter && tcpCountersSince(tcpBefore, tcpAfter);
  fleet.quiet(false);
  let hubP99BackMs: number | null = null;
  const firstSample = monitor.samples.length;
  try {
    await waitFor(
      () => {
        const s = monitor.samples.slice(firstSample).find((x) => x.msgsPerSec > 0 && x.p99Ms < 100);
        // Seen within a poll of its second's end: the time is when that second closed.
        if (s !== undefined) hubP99BackMs = Date.now() - start;
        return s !== undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, message: 'the hub p99 under 100 ms after the storm' },
    );
  } catch {
    // null
  }
  return { edges: fleet.now().connected, restartMs, allBackMs, hubP99BackMs, tcp };
}
