/**
 * `outbox`: fleet events to a web backend that stalls for 60 s and recovers, under a sustained
 * alarm storm — every one of N edges raises an alarm and clears it 10 s later, every 20 s (N/10
 * events a second; the legacy fleet's real alarm rate is far lower: this is the storm the plan
 * fears, held for minutes). Redis, a hub node and a gateway process (16 delivery partitions,
 * 2,000 events/s at most) run as their own processes; the web backend is a stand-in HTTP server
 * in this process that holds every request unanswered while stalled (the gateway's requests time
 * out after 10 s and are retried; the held ones are answered at the recovery — duplicates).
 *
 * lost: alarm events the actors emitted (known exactly: each start and end the bench sent makes
 * one) that never reached the backend; outOfOrder: events that reached it after a newer one of
 * the same edge; maxBacklog: events queued, most at once; drainSeconds: from the recovery until
 * the backlog is back to what it was before the stall.
 */
import { createActorClient } from '../../actors/mod.ts';
import { edgeActor } from '../../edge/mod.ts';
import { startWebBackendStandIn, type WebBackendStandIn, waitFor } from '../../infra/mod.ts';
import { edgeId, startBenchCluster } from '../cluster.ts';
import { httpClient } from '../http-client.ts';
import { promSamples } from '../prom-samples.ts';
import type { Target } from '../report.ts';
import { type ScenarioOptions, type ScenarioResult, sleep } from './common.ts';
import type { HttpClient } from './gateway-polls.ts';

const PERIOD_S = 20;
const STALL_S = 60;
const WARM_S = 20;

export async function outboxScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  // The default run (30 s) warms 20 s and stalls 60 s; a short run (a smoke test) scales both down.
  const warmS = Math.min(WARM_S, o.seconds);
  const stallS = Math.min(STALL_S, 2 * o.seconds);
  await using cluster = await startBenchCluster();
  await cluster.startNode('node-1');
  await using backend = await startWebBackendStandIn();
  const gateway = await cluster.startGateway([
    '--web-backend-url',
    backend.url,
    '--web-backend-partitions',
    '16',
    '--web-backend-rate',
    '2000',
  ]);
  const http = httpClient(gateway.url, 4);
  await using _http = { [Symbol.asyncDispose]: async () => http.close() };
  const client = createActorClient(cluster.bus, edgeActor);
  const storm = startStorm((id, payload) => client.send(id, 'alarm', payload), o.edges);
  const sampler = backlogSampler(http, backend);

  const drainSeconds = await stallAndRecover({ o, warmS, stallS, backend, sampler });
  const alarmEvents = await storm.stop();
  // Everything sent is delivered in the end (or the wait times out and `lost` says how many not).
  const alarmsDelivered = () =>
    [...backend.events.values()].filter((e) => e.type.startsWith('alarm.')).length;
  await waitFor(() => alarmsDelivered() >= alarmEvents, { timeoutMs: 120_000, intervalMs: 500 }).catch(
    () => {},
  );
  await sampler.sample();
  process.stderr.write('\n');
  return outboxReport({
    o,
    warmS,
    stallS,
    backend,
    sampler,
    alarmEvents,
    lost: alarmEvents - alarmsDelivered(),
    drainSeconds,
  });
}

type Alarm = { alarm: string; phase: 'start' | 'end' };

/**
 * The storm: each edge starts an alarm at its slot of the period and ends it half a period later.
 * `stop` ends it and returns how many alarm events it sent.
 */
function startStorm(send: (edgeId: string, alarm: Alarm) => Promise<unknown>, edges: number) {
  let alarmEvents = 0;
  let stopLoad = false;
  const load = (async () => {
    const started = Date.now();
    for (let second = 0; !stopLoad; second++) {
      const due = started + second * 1000;
      if (due > Date.now()) await sleep(due - Date.now());
      const cycle = Math.floor(second / PERIOD_S);
      const slot = second % PERIOD_S;
      const sends: Promise<unknown>[] = [];
      for (let i = slot; i < edges; i += PERIOD_S) {
        sends.push(send(edgeId(i), { alarm: `storm-${cycle}`, phase: 'start' }));
        alarmEvents++;
      }
      // Those that started half a period ago end now.
      const endSlot = (slot + PERIOD_S / 2) % PERIOD_S;
      const endCycle = slot >= PERIOD_S / 2 ? cycle : cycle - 1;
      if (endCycle >= 0)
        for (let i = endSlot; i < edges; i += PERIOD_S) {
          sends.push(send(edgeId(i), { alarm: `storm-${endCycle}`, phase: 'end' }));
          alarmEvents++;
        }
      await Promise.all(sends);
    }
  })();
  return {
    async stop(): Promise<number> {
      stopLoad = true;
      await load;
      return alarmEvents;
    },
  };
}

type Sampler = ReturnType<typeof backlogSampler>;

/** The gateway's backlog (its /metrics) and the backend's deliveries, sampled into a timeline. */
function backlogSampler(http: HttpClient, backend: WebBackendStandIn) {
  const backlog = async () => {
    const text = (await http.send('GET', '/metrics')).body;
    return promSamples(text, 'devicehub_web_backend_backlog')[0]?.value ?? 0;
  };
  const timeline: { t: number; backlog: number; delivered: number }[] = [];
  const t0 = Date.now();
  let maxBacklog = 0;
  const sample = async () => {
    const b = await backlog();
    maxBacklog = Math.max(maxBacklog, b);
    timeline.push({
      t: Math.round((Date.now() - t0) / 1000),
      backlog: b,
      delivered: backend.stats.delivered,
    });
    process.stderr.write(
      `\r  ${timeline.at(-1)!.t} s  backend ${backend.mode}  backlog ${b}  delivered ${backend.stats.delivered}   `,
    );
    return b;
  };
  const phase = async (seconds: number) => {
    for (let s = 0; s < seconds; s++) {
      await sleep(1000);
      await sample();
    }
  };
  return { timeline, sample, phase, maxBacklog: () => maxBacklog };
}

/** The backend fine, stalled, then recovered; returns the seconds the backlog took to drain. */
async function stallAndRecover(r: {
  o: ScenarioOptions;
  warmS: number;
  stallS: number;
  backend: WebBackendStandIn;
  sampler: Sampler;
}): Promise<number> {
  const { o, backend, sampler } = r;
  console.error(
    `bench outbox: ${o.edges} edges, ${o.edges / (PERIOD_S / 2)} alarm events/s; backend fine for ${r.warmS} s…`,
  );
  await sampler.phase(r.warmS);
  const before = Math.max(...sampler.timeline.slice(-5).map((x) => x.backlog));
  process.stderr.write('\n');
  console.error(`bench outbox: the backend stalls for ${r.stallS} s…`);
  backend.mode = 'stall';
  await sampler.phase(r.stallS);
  process.stderr.write('\n');
  console.error('bench outbox: the backend recovers; draining under the same load…');
  backend.mode = 'ok';
  const recovered = Date.now();
  for (let s = 0; s < 600; s++) {
    await sleep(1000);
    if ((await sampler.sample()) <= Math.max(before, o.edges / (PERIOD_S / 2)))
      return Math.round((Date.now() - recovered) / 100) / 10;
  }
  return Number.NaN;
}

function outboxReport(r: {
  o: ScenarioOptions;
  warmS: number;
  stallS: number;
  backend: WebBackendStandIn;
  sampler: Sampler;
  alarmEvents: number;
  lost: number;
  drainSeconds: number;
}): ScenarioResult {
  const { o, backend, drainSeconds } = r;
  const maxBacklog = r.sampler.maxBacklog();
  const timeline = r.sampler.timeline;
  const result = {
    edges: o.edges,
    alarmEventsPerSecond: o.edges / (PERIOD_S / 2),
    stallSeconds: r.stallS,
    alarmEvents: r.alarmEvents,
    delivered: backend.stats.delivered,
    lost: r.lost,
    duplicatesDelivered: backend.stats.duplicates,
    outOfOrder: backend.stats.outOfOrder,
    maxBacklog,
    drainSeconds,
    heldAtOnce: backend.stats.maxHeld,
  };
  const targets: Target[] = [
    { metric: 'events delivered', value: result.delivered, target: '—', met: true },
    { metric: 'alarm events lost', value: result.lost, target: '0', met: result.lost === 0 },
    {
      metric: 'delivered out of order (per edge)',
      value: result.outOfOrder,
      target: '0',
      met: result.outOfOrder === 0,
    },
    {
      metric: 'duplicates delivered (same idempotency key)',
      value: result.duplicatesDelivered,
      target: 'counted',
      met: true,
    },
    { metric: 'max backlog (events)', value: maxBacklog, target: '—', met: true },
    {
      metric: 'drain after recovery (s)',
      value: drainSeconds,
      target: '—',
      met: Number.isFinite(drainSeconds),
    },
  ];
  return {
    result,
    targets,
    plot: {
      xLabel: `second (stall from ${r.warmS} to ${r.warmS + r.stallS})`,
      x: timeline.map((x) => x.t),
      charts: [
        { label: 'backlog (events queued for the web backend)', values: timeline.map((x) => x.backlog) },
        {
          label: 'events delivered per second',
          values: timeline.map((x, i) => x.delivered - (timeline[i - 1]?.delivered ?? 0)),
        },
      ],
    },
  };
}
