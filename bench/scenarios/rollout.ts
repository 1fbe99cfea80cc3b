/**
 * `rollout`: N simulated edges updated by a 4-wave rollout (1 %, 10 %, 50 %, 100 %), everything
 * real but the installs. Redis, a hub node (the rollout actor), mosquitto with an MQTT link, and
 * the gateway (artifacts, TUF, rollouts) are their own processes; two nginx caches sit in front of
 * the gateway behind a byte meter; the edges run in load processes (rollout-load.ts), each edge
 * with its own MQTT connection and its own TUF client, downloading through its mirrors (ranked
 * by rendezvous) and hashing every byte, reporting its states through the link.
 *
 * Phase 1: a clean rollout of version 2.0.0 → time until 95 % of the edges are healthy, bytes the
 * origin served, the caches' hit ratio, edge CPU per MB verified. Phase 2: version 3.0.0, with
 * `failPercent` % of wave 2's edges missing their health gate (rolled back) → the rollout must
 * pause with no edge beyond wave 2 told to update. Wave membership is the gateway's own
 * (`splitIntoWaves`: the rollout id's hash order), so the failing edges are known in advance.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { splitIntoWaves } from '../../gateway/rollouts/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { startBenchCluster } from '../cluster.ts';
import { type RolloutEdges, startRolloutEdges } from '../rollout-edges.ts';
import type { ScenarioOptions, ScenarioResult } from './common.ts';
import { type PhaseOne, type PhaseTwo, rolloutReport, type Sample } from './rollout-report.ts';
import {
  startCdn,
  startEdgeBroker,
  startOrigin,
  trustedRoot,
  type UploadedArtifact,
  uploadArtifact,
} from './rollout-setup.ts';

const WAVES = [1, 10, 50, 100];

interface RolloutView {
  status: string;
  reason: string | null;
  currentWave: number | null;
  counts: { members: number; pending: number; inFlight: number; healthy: number; failed: number };
  waves: {
    index: number;
    members: number;
    pending: number;
    inFlight: number;
    healthy: number;
    failed: number;
    state: string;
  }[];
}

export async function rolloutScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const holdSeconds = o.holdSeconds ?? 30;
  const artifactMb = o.artifactMb ?? 5;
  const failPercent = o.failPercent ?? 5;
  await using cluster = await startBenchCluster();
  await cluster.startNode('node-1');
  await using broker = await startEdgeBroker(cluster, o.edges);
  await using origin = await startOrigin(cluster, o.edges);
  await using cdn = await startCdn(origin.url);
  const api = rolloutApi(origin.url, origin.keys.admin);
  const v2 = await uploadArtifact(origin.url, origin.keys.admin, {
    name: 'elenet',
    version: '2.0.0',
    mb: artifactMb,
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'dh-bench-rollout-edges-'));
  await using _data = {
    [Symbol.asyncDispose]: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
  console.error(`bench rollout: ${o.edges} edges connecting (${o.processes ?? 4} load processes)…`);
  await using edges = await startRolloutEdges({
    edges: o.edges,
    processes: Math.min(o.processes ?? 4, o.edges),
    mqttUrl: broker.url,
    mirrors: cdn.caches.map((c) => c.url),
    metadataUrl: `${origin.url}/v1/tuf/metadata`,
    rootFile: await trustedRoot(origin.url),
    dataDir,
    installMs: 200,
  });
  // Every edge online at the hub (its birth applied) before the fleet is searched.
  await waitFor(
    async () => (await cluster.edgeStates(o.edges, (i) => origin.ids[i]!)).every((s) => s?.online),
    {
      timeoutMs: 120_000,
      intervalMs: o.edges > 1000 ? 1000 : 250,
      message: 'every simulated edge online at the hub',
    },
  );

  // Phase 1: a clean rollout.
  // The package given in full (the TUF target path is <kind>/<name>/<version>/<fileName>, as signed at upload).
  const spec = (a: UploadedArtifact) => ({
    name: `bench elenet ${a.version}`,
    filter: '',
    target: {
      packages: [
        {
          kind: 'edge-package',
          name: a.name,
          version: a.version,
          sha256: a.sha256,
          length: a.size,
          fileName: a.fileName,
        },
      ],
    },
    waves: WAVES.map((percent) => ({ name: `${percent}%`, percent, successPercent: 95, holdSeconds })),
    errorThreshold: { percent: 2, minFinished: 1 },
    ratePerMinute: Math.max(600, o.edges * 2),
    spreadSeconds: o.spreadSeconds ?? 30,
    healthDeadlineSeconds: 60,
    ...(o.checkEverySeconds === undefined ? {} : { checkEverySeconds: o.checkEverySeconds }),
  });
  const cpu0 = edges.cpuMicros();
  const verified0 = edges.progress().bytesVerified;
  const start = Date.now();
  await api.create('bench-v2', spec(v2));
  const samples = await follow(api, edges, cdn, {
    id: 'bench-v2',
    label: 'phase 1',
    start,
    edges: o.edges,
    done: (r) => r.status === 'completed' || r.status === 'paused' || r.status === 'aborted',
    timeoutMs: Math.max(300_000, o.edges * 400),
  });
  const phaseOne: PhaseOne = {
    view: await api.get('bench-v2'),
    healthyAt: (await edges.healthyAt('bench-v2')).map((t) => t - start),
    cpuMicros: edges.cpuMicros() - cpu0,
    bytesVerified: edges.progress().bytesVerified - verified0,
    originBytes: cdn.meter.bytes(),
    served: cdn.served(),
    progress: edges.progress(),
    samples,
  };

  // Phase 2: a bad release; failPercent % of wave 2 miss their health gate.
  const v3 = await uploadArtifact(origin.url, origin.keys.admin, {
    name: 'elenet',
    version: '3.0.0',
    mb: artifactMb,
  });
  const plan = splitIntoWaves(
    'bench-v3',
    origin.ids.map((edgeId) => ({ edgeId })),
    WAVES.map((percent) => ({ percent })),
  );
  const waveTwo = plan.filter((m) => m.wave === 1).map((m) => m.edgeId);
  const failing = waveTwo.slice(0, Math.max(1, Math.round((waveTwo.length * failPercent) / 100)));
  edges.fail('3.0.0', failing);
  const originBefore = cdn.meter.bytes();
  const start2 = Date.now();
  await api.create('bench-v3', spec(v3));
  await follow(api, edges, cdn, {
    id: 'bench-v3',
    label: 'phase 2',
    start: start2,
    edges: o.edges,
    done: (r) => r.status !== 'running',
    timeoutMs: Math.max(180_000, o.edges * 100),
  });
  // Paused: nothing more may start, even after a wave's hold would have passed.
  await new Promise((resolve) => setTimeout(resolve, Math.min(holdSeconds, 5) * 1000 + 2000));
  const view2 = await api.get('bench-v3');
  const inFirstTwo = new Set(plan.filter((m) => m.wave <= 1).map((m) => m.edgeId));
  const commanded = await edges.commanded('bench-v3');
  const phaseTwo: PhaseTwo = {
    view: view2,
    failing: failing.length,
    waveTwo: waveTwo.length,
    beyondWaveTwo: commanded.filter((id) => !inFirstTwo.has(id)).length,
    commanded: commanded.length,
    originBytes: cdn.meter.bytes() - originBefore,
    progress: edges.progress(),
    seconds: (Date.now() - start2) / 1000,
  };
  return rolloutReport({
    o: { edges: o.edges, artifactMb, holdSeconds, failPercent },
    artifactBytes: v2.size,
    v3Bytes: v3.size,
    one: phaseOne,
    two: phaseTwo,
  });
}

/** The rollout API with the admin key. */
function rolloutApi(url: string, key: string) {
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  return {
    async create(id: string, body: Record<string, unknown>): Promise<void> {
      const answer = await fetch(`${url}/v1/rollouts`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ id, ...body }),
      });
      if (!answer.ok) throw new Error(`POST /v1/rollouts: ${answer.status} ${await answer.text()}`);
    },
    async get(id: string): Promise<RolloutView> {
      const answer = await fetch(`${url}/v1/rollouts/${id}`, { headers });
      if (!answer.ok) throw new Error(`GET /v1/rollouts/${id}: ${answer.status} ${await answer.text()}`);
      return (await answer.json()) as RolloutView;
    },
  };
}

type RolloutApi = ReturnType<typeof rolloutApi>;

/** Follows a rollout every half second (a progress line, a sample for the plot) until `done`. */
async function follow(
  api: RolloutApi,
  edges: RolloutEdges,
  cdn: { meter: { bytes(): number } },
  f: {
    id: string;
    label: string;
    start: number;
    edges: number;
    done: (r: RolloutView) => boolean;
    timeoutMs: number;
  },
): Promise<Sample[]> {
  const samples: Sample[] = [];
  const deadline = Date.now() + f.timeoutMs;
  // This process runs the byte meter in front of the origin: its event loop's lag, shown to spot a stall.
  const lag = monitorEventLoopDelay({ resolution: 20 });
  lag.enable();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const view = await api.get(f.id).catch(() => undefined);
    const p = edges.progress();
    const mine = p.rollouts[f.id] ?? { healthy: 0, rolledBack: 0, failed: 0 };
    const t = (Date.now() - f.start) / 1000;
    samples.push({
      t,
      healthy: mine.healthy,
      bytesVerified: p.bytesVerified,
      originBytes: cdn.meter.bytes(),
    });
    process.stderr.write(
      `\r  ${f.label} ${t.toFixed(0)} s  ${view?.status ?? '…'} wave ${(view?.currentWave ?? 0) + 1}/${WAVES.length}` +
        `  healthy ${mine.healthy}/${f.edges}  rolled back ${mine.rolledBack}  failed ${mine.failed}` +
        `  verified ${(p.bytesVerified / 2 ** 20).toFixed(0)} MB  origin ${(cdn.meter.bytes() / 2 ** 20).toFixed(1)} MB` +
        `  bench lag ${(lag.max / 1e6).toFixed(0)} ms${p.reasons[0] === undefined ? '' : `  first failure: ${p.reasons[0]}`}   `,
    );
    lag.reset();
    if (view !== undefined && f.done(view)) break;
    if (Date.now() > deadline) {
      process.stderr.write('\n');
      throw new Error(
        `${f.label}: rollout ${f.id} still ${view?.status ?? 'unknown'} after ${f.timeoutMs / 1000} s`,
      );
    }
  }
  lag.disable();
  process.stderr.write('\n');
  return samples;
}
