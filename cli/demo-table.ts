/** The demo's live table: once a second, the hub nodes' counters, the edges, the gateway and the logs. */

import { relative } from 'node:path';
import { Histogram, histogramDelta, type NodeStats, readNodeStats } from '../actors/mod.ts';
import { type Bus, liveMembers, readDeadLetters } from '../bus/mod.ts';
import type { EdgeSource } from './demo-edges.ts';
import { LOG_DIR } from './demo-logs.ts';
import { REMOTE_EDGE } from './demo-remote-edge.ts';

export interface DemoTableOptions {
  bus: Bus;
  redisUrl: string;
  edges: number;
  source: EdgeSource;
  gateway:
    | { url: string; adminKey: string; caFile: string; screen?: { page: string } | { skipped: string } }
    | undefined;
  /** The CDN caches in front of the gateway (undefined: not running). */
  cdn?: readonly string[] | undefined;
  /** The clip worker (undefined: not running). */
  clips?: { describe(): string } | undefined;
  /** The recognition worker and DEMO-VISION (undefined: not running). */
  recognize?: { describe(): string } | undefined;
  /** When the demo came up (Date.now()). */
  started: number;
}

/** Redraws the table every second until the returned function is called. */
export function startDemoTable(o: DemoTableOptions): () => void {
  let previous = new Map<string, NodeStats>();
  const { bus } = o;
  const render = async () => {
    const [stats, members, letters] = await Promise.all([
      readNodeStats(bus),
      liveMembers(bus),
      readDeadLetters(bus, 1000),
    ]);
    const nodes = nodeRows(stats, previous, members);
    previous = new Map(stats.map((s) => [s.node, s]));
    const header = headerLines(o, { ...nodes, members: members.length, deadLetters: letters.length });
    process.stdout.write(
      `\x1b[2J\x1b[H${[...header, ...nodes.lines, '', 'Ctrl-C stops everything.'].join('\n')}\n`,
    );
  };
  const timer = setInterval(() => void render().catch(() => {}), 1000);
  return () => clearInterval(timer);
}

/** One row per hub node, its rate and p99 over the last second, and the totals over all of them. */
function nodeRows(stats: readonly NodeStats[], previous: Map<string, NodeStats>, members: readonly string[]) {
  const lines: string[] = [];
  let handledTotal = 0;
  let rate = 0;
  const latency = new Histogram();
  lines.push('node      state   shards  actors   msg/s   p99 ms   handled     rss MB');
  for (const s of stats) {
    const before = previous.get(s.node);
    const perSec =
      before && before.pid === s.pid
        ? ((s.handled - before.handled) * 1000) / Math.max(1, s.at - before.at)
        : 0;
    const window = Histogram.from(
      histogramDelta(s.latencyMs, before?.pid === s.pid ? before.latencyMs : undefined),
    );
    latency.merge(window.toJSON());
    handledTotal += s.handled;
    const live = members.includes(s.node);
    if (live) rate += perSec;
    lines.push(
      `${s.node.padEnd(9)} ${(live ? 'up' : 'down').padEnd(7)} ${String(s.shards).padStart(6)} ${String(s.actors).padStart(7)} ${perSec.toFixed(0).padStart(7)} ${window.quantile(0.99).toFixed(1).padStart(8)} ${String(s.handled).padStart(10)} ${(s.rssBytes / 2 ** 20).toFixed(0).padStart(10)}`,
    );
  }
  return { lines, handledTotal, rate, latency };
}

function headerLines(
  o: DemoTableOptions,
  t: { handledTotal: number; rate: number; latency: Histogram; members: number; deadLetters: number },
): string[] {
  const { source, gateway } = o;
  const lag = Math.max(0, source.sent() - t.handledTotal);
  return [
    `DeviceHub demo — ${o.edges.toLocaleString('en')} simulated edges, ${t.members} hub node(s), Redis ${o.redisUrl}`,
    `up ${((Date.now() - o.started) / 1000).toFixed(0)} s · ${source.describe()} · sent ${source.sent().toLocaleString('en')} · handled ${t.rate.toFixed(0)} msg/s · mailbox lag ≈ ${lag.toLocaleString('en')} msgs · p99 ${t.latency.quantile(0.99).toFixed(1)} ms · dead letters ${t.deadLetters}`,
    gateway
      ? `dashboard ${gateway.url}/ui/#key=${gateway.adminKey} · API ${gateway.url}/v1/docs (key in .devicehub/admin-key)${source.remote ? ` · edge ${REMOTE_EDGE} runs a real frpc and sshd: open a remote connection to it from the dashboard` : ''}`
      : 'gateway: not running',
    gateway
      ? `TLS: trust the fleet CA ${relative(process.cwd(), gateway.caFile)} (curl --cacert ${relative(process.cwd(), gateway.caFile)} ${gateway.url}/healthz; a browser: import it as an authority, or accept the warning once)`
      : '',
    o.cdn
      ? `CDN caches ${o.cdn.join(' ')} (nginx, 1 MiB slices, in front of the gateway; each edge's configuration ranks them: updates.mirrors)`
      : 'CDN caches: not running',
    `alarm clips: ${o.clips ? `${o.clips.describe()} · the dashboard's alarm view plays them` : 'not running'}`,
    `second looks: ${o.recognize ? `${o.recognize.describe()} · verdicts on the edge page` : 'not running'}`,
    gateway?.screen === undefined
      ? ''
      : 'page' in gateway.screen
        ? `wall screen ${gateway.screen.page} (a rollout of a newer screen-bundle to hardware:screen moves it)`
        : `wall screen: not set up (${gateway.screen.skipped})`,
    `logs ${LOG_DIR}/ (demo, gateway, clips, recognize, vision, link-mqtt, link-kafka, downlink, simulator, remote-edge, hub-N)`,
    '',
  ];
}
